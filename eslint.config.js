// Lint: typescript-eslint's type-checked rules, plus the house walls:
// - the pure-core boundary: code under a component's core/ may not reach for effects
//   (fs, child_process, zx, systeminformation), process or Date.now;
// - lib/ imports no component;
// - one component imports another only through its front door (FRONT_DOORS below);
// - test code is not shared across components (another component's test/ or qemu-tests/).
// no-restricted-imports matches the import specifier as written, so the walls are generated
// per directory depth: from a file N directories below the root, '../' x N leads to the root.
import tseslint from 'typescript-eslint';

const effectModules = ['node:fs', 'node:fs/promises', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:os', 'zx', 'systeminformation', 'fs', 'child_process'];
const effectPaths = effectModules.map((name) => ({ name, message: 'core/ is pure: take effects through the Sys interfaces' }));

/** Each component's front doors, relative to its folder: all another component may import of it. */
export const FRONT_DOORS = {
  init: ['src/index.ts'],
  runtime: ['src/index.ts'],
  updater: ['src/host.ts', 'src/index.ts'],
  cli: ['src/index.ts'],
  'image-builder': ['src/index.ts'],
  vm: ['src/index.ts'],
  fleet: ['src/index.ts'],
  'qemu-tests': ['harness/index.ts'],
  scripts: [],
  bin: [],
};
/** Extra doors for one importing folder: the benchmarks drive the test harnesses, bin/ starts the CLI. */
const EXTRA_DOORS = {
  scripts: { fleet: ['test/integration/etcd-cluster.ts'] },
  bin: { cli: ['src/main.ts'] },
};
/** Components whose whole folder is test code (besides every component's test/). */
const TEST_COMPONENTS = ['qemu-tests'];
const COMPONENTS = Object.keys(FRONT_DOORS);
const MAX_DEPTH = 10;

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alternatives = (paths) => paths.map(escape).join('|');

/** The no-restricted-imports patterns for a file of `component` that sits `depth` folders deep. */
export function wallPatterns(component, depth) {
  const root = '^' + escape('../'.repeat(depth));
  if (component === 'lib') {
    return [{ regex: `${root}(${COMPONENTS.map(escape).join('|')})/`, message: 'lib/ holds shared contracts only and imports no component' }];
  }
  const patterns = [{ regex: `${root}lib/test/`, message: `lib's test code is not shared with ${component}: move what both need into lib/` }];
  for (const other of COMPONENTS) {
    if (other === component) continue;
    const extra = EXTRA_DOORS[component]?.[other] ?? [];
    const unless = (doors) => (doors.length > 0 ? `(?!(${alternatives(doors)})$)` : '');
    const shared = `move what both need into ${other}'s front door or lib/`;
    if (TEST_COMPONENTS.includes(other)) {
      // A folder of test code: only the benchmarks (scripts/) may drive it, through its front door.
      const doors = component === 'scripts' ? FRONT_DOORS[other] : [];
      patterns.push({ regex: `${root}${escape(other)}/${unless(doors)}`, message: component === 'scripts' ? `Import ${other} only through its front door ${other}/${FRONT_DOORS[other].join(' or ')}` : `${other} is test code, not shared with ${component}: move what both need into lib/` });
      continue;
    }
    const doors = FRONT_DOORS[other];
    const message = doors.length > 0 ? `Import ${other} only through its front door ${doors.map((door) => `${other}/${door}`).join(' or ')}; export what you need from there` : `${other} has no front door: other components import nothing of it`;
    patterns.push({ regex: `${root}${escape(other)}/(?!test/)${unless([...doors, ...extra])}`, message });
    const testDoors = extra.filter((door) => door.startsWith('test/'));
    patterns.push({ regex: `${root}${escape(other)}/${unless(testDoors)}test/`, message: `${other}'s test code is not shared with ${component}: ${shared}` });
  }
  return patterns;
}

/** A flat-config glob for the files of `component` exactly `depth` folders below the repository root. */
const filesAt = (component, depth) => `${component}/${'*/'.repeat(depth - 1)}*.{ts,js}`;

const walls = [];
for (const component of ['lib', ...COMPONENTS]) {
  for (let depth = 1; depth <= MAX_DEPTH; depth++) {
    const patterns = wallPatterns(component, depth);
    walls.push({ files: [filesAt(component, depth)], rules: { 'no-restricted-imports': ['error', { patterns }] } });
    // A later object with the same rule replaces it, so core/ gets the effect paths and the walls together.
    walls.push({ files: [[filesAt(component, depth), '**/core/**']], rules: { 'no-restricted-imports': ['error', { paths: effectPaths, patterns }] } });
  }
}

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
  ...walls,
  {
    files: ['lib/layout.ts', 'lib/boot-entry.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: effectPaths, patterns: wallPatterns('lib', 1) }] },
  },
  {
    files: ['**/core/**/*.ts', 'lib/layout.ts', 'lib/boot-entry.ts'],
    rules: {
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
