// Lint: typescript-eslint's type-checked rules, plus the pure-core boundary: code under
// a component's core/ may not reach for effects (fs, child_process, zx, systeminformation).
import tseslint from 'typescript-eslint';

const effectModules = ['node:fs', 'node:fs/promises', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:os', 'zx', 'systeminformation', 'fs', 'child_process'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', '.tap/**', '**/tap-snapshots/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['**/core/**/*.ts', 'lib/layout.ts', 'lib/boot-entry.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: effectModules.map((name) => ({ name, message: 'core/ is pure: take effects through the Sys interfaces' })) }],
      'no-restricted-globals': ['error', { name: 'process', message: 'core/ is pure: pass environment in as parameters' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'core/ is pure: take a clock parameter' }],
    },
  },
  {
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // tap subtests are often async without awaiting anything inside.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
