// The house walls in eslint.config.js, run through ESLint's API on small sources placed at real
// paths: lib imports no component, components meet only at front doors, test code stays home,
// and core/ stays pure. Only no-restricted-imports runs (no type information needed).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import t, { type Test } from 'tap';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const eslint = new ESLint({
  cwd: repoRoot,
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The no-restricted-imports messages for `source` placed at `file` (relative to the repository). */
async function wallMessages(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(repoRoot, file) });
  return (result?.messages ?? []).map((message) => `${message.ruleId ?? 'fatal'}: ${message.message}`);
}

/** Exactly one message per pattern, in order. */
function expectMessages(t: Test, messages: string[], patterns: RegExp[], what = 'one message per expected wall'): void {
  t.equal(messages.length, patterns.length, what);
  t.match(messages, patterns, what);
}

void t.test('a deep import across components fails; the front door passes', async (t) => {
  const deep = await wallMessages('init/src/bless.ts', "import { planBless } from '../../updater/src/core/slots.ts';\nvoid planBless;\n");
  expectMessages(t, deep, [/^no-restricted-imports: .*Import updater only through its front door updater\/src\/host\.ts or updater\/src\/index\.ts/]);
  t.same(await wallMessages('init/src/bless.ts', "import { planBless } from '../../updater/src/host.ts';\nvoid planBless;\n"), []);
  t.same(await wallMessages('cli/src/ctl/run.ts', "import { x } from '../../../updater/src/index.ts';\nvoid x;\n"), [], 'the operator-side door, three levels down');
  expectMessages(t, await wallMessages('cli/src/ctl/run.ts', "export { x } from '../../../runtime/src/store/unpack.ts';\n"), [/Import runtime only through its front door runtime\/src\/index\.ts/], 're-exports are imports too');
});

void t.test('the depth of the importing file decides what a relative path reaches', async (t) => {
  // cli/src/vm/ is the CLI's own folder: '../vm/' from cli/src/ctl/ does not leave the CLI.
  t.same(await wallMessages('cli/src/ctl/run.ts', "import { x } from '../vm/args.ts';\nvoid x;\n"), []);
  expectMessages(t, await wallMessages('cli/src/run.ts', "import { x } from '../../vm/src/vm.ts';\nvoid x;\n"), [/Import vm only through its front door vm\/src\/index\.ts/]);
});

void t.test('lib imports no component, not even a front door', async (t) => {
  const messages = await wallMessages('lib/retry.ts', "import { startCoordinator } from '../fleet/src/index.ts';\nvoid startCoordinator;\n");
  expectMessages(t, messages, [/lib\/ holds shared contracts only and imports no component/]);
  t.same(await wallMessages('lib/config/sections/update.ts', "import { x } from '../../semver.ts';\nvoid x;\n"), []);
});

void t.test('test code is not shared across components', async (t) => {
  expectMessages(t, await wallMessages('runtime/test/integration/x.test.ts', "import { x } from '../../../qemu-tests/harness/index.ts';\nvoid x;\n"), [/qemu-tests is test code, not shared with runtime/]);
  expectMessages(t, await wallMessages('init/test/unit/x.test.ts', "import { x } from '../../../fleet/test/integration/etcd-cluster.ts';\nvoid x;\n"), [/fleet's test code is not shared with init/]);
  expectMessages(t, await wallMessages('init/test/unit/x.test.ts', "import { x } from '../../../lib/test/unit/helpers.ts';\nvoid x;\n"), [/lib's test code is not shared with init/]);
  t.same(await wallMessages('scripts/bench/update.ts', "import { x } from '../../qemu-tests/harness/index.ts';\nvoid x;\n"), [], 'the benchmarks drive the harness through its door');
  expectMessages(t, await wallMessages('scripts/bench/update.ts', "import { x } from '../../qemu-tests/harness/registry.ts';\nvoid x;\n"), [/Import qemu-tests only through its front door qemu-tests\/harness\/index\.ts/]);
});

void t.test('core/ keeps its effect ban beside the walls', async (t) => {
  const messages = await wallMessages('runtime/src/core/manifest.ts', "import { readFileSync } from 'node:fs';\nimport { x } from '../../../updater/src/core/slots.ts';\nvoid readFileSync; void x;\n");
  expectMessages(t, messages, [/core\/ is pure: take effects through the Sys interfaces/, /Import updater only through its front door/]);
});
