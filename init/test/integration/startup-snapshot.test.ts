/**
 * Init's startup snapshot (startup-snapshot.ts): naming, what init's start does with the copy
 * berth-pid1 used, and builds by the host's Node: of small bundles, and of init's own bundle
 * built the way the image builder makes berth-init.cjs, whose main must run from the snapshot.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import t from 'tap';
import { BerthError } from '../../../lib/errors.ts';
import { INIT_BUNDLE_ENTRIES, withModuleObject } from '../../../image-builder/src/index.ts';
import { buildStartupSnapshot, dropKeptSnapshots, IN_USE_SUFFIX, onSnapshotStart, settleSnapshotAtStart, startupSnapshotFileName } from '../../src/startup-snapshot.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ROOT_HASH = 'c0ffee'.repeat(10) + 'abcd';
// The host's Node (20) counts flags in a snapshot's version tag (--no-lazy at the build,
// --verify-snapshot-checksum at the start) and refuses one built with others; the guest's Node
// (24), which berth builds and starts with them, does not: the qemu tests prove that start. Here
// the host's Node builds and starts with none.
const HOST_BUILD = { nodeBinary: process.execPath, buildFlags: [] };
/** Without the test runner's NODE_OPTIONS (its loaders), which a start from a snapshot must not have: init has none. */
const PLAIN_ENV = { ...process.env, NODE_OPTIONS: '' };

void t.test('the kept snapshot is named by the root hash, which must be hex', async (t) => {
  t.equal(startupSnapshotFileName(ROOT_HASH), `init-${ROOT_HASH}.blob`);
  for (const bad of ['', '../../etc/passwd', 'C0FFEE'.repeat(11), 'abc', `${ROOT_HASH} x`]) {
    t.throws(() => startupSnapshotFileName(bad), { code: 'INIT_SNAPSHOT_FAILED' }, JSON.stringify(bad));
  }
  t.match(
    (() => {
      try {
        startupSnapshotFileName('../x');
      } catch (error) {
        return (error as BerthError).message;
      }
      return '';
    })(),
    /root hash "\.\.\/x" on the kernel command line is not hex/,
  );
});

void t.test("at init's start the copy is removed, and a copy berth-pid1 left in use names a failed start", async (t) => {
  const dir = t.testdir({});
  const run = path.join(dir, 'init-snapshot.blob');
  writeFileSync(run + IN_USE_SUFFIX, 'heap');
  t.equal(settleSnapshotAtStart(true, run), 'snapshot', 'started from it: the in-use copy goes');
  t.same(readdirSync(dir), []);
  t.equal(settleSnapshotAtStart(false, run), 'bundle', 'no copy: a start from the bundle');
  writeFileSync(run + IN_USE_SUFFIX, 'heap');
  t.equal(settleSnapshotAtStart(false, run), 'snapshot-failed', 'a start from the bundle with the in-use copy left: the one from it died first');
  t.same(readdirSync(dir), []);
  writeFileSync(run, 'heap');
  t.equal(settleSnapshotAtStart(false, run), 'bundle', 'a copy berth-pid1 did not use is removed too (tmpfs memory)');
  t.same(readdirSync(dir), []);
  t.notOk(
    onSnapshotStart(() => t.fail('not building a snapshot')),
    'outside a snapshot build nothing is registered',
  );
});

const SMALL_BUNDLE = [
  "const v8 = require('node:v8');",
  "const greeting = ['from', 'the', 'snapshot'].join(' ');",
  'v8.startupSnapshot.setDeserializeMainFunction(() => {',
  "  process.stdout.write(`${greeting}: ${process.argv.slice(1).join(',')}\\n`);",
  '});',
].join('\n');

void t.test('a build keeps the snapshot as the only file, crash-safely, and Node starts from it', async (t) => {
  const dir = t.testdir({ kept: { 'init-old.blob': 'another root', '.init-z.blob.tmp': 'torn build' } });
  const bundle = path.join(dir, 'bundle.cjs');
  writeFileSync(bundle, SMALL_BUNDLE);
  const kept = path.join(dir, 'kept');
  const built = await buildStartupSnapshot({ ...HOST_BUILD, bundle, keptDir: kept, fileName: 'init-x.blob' });
  t.same(readdirSync(kept), ['init-x.blob']);
  t.equal(built.removed, 2, 'the other root and the torn build went');
  t.equal(built.bytes, readFileSync(path.join(kept, 'init-x.blob')).length);
  const out = execFileSync(process.execPath, ['--snapshot-blob', path.join(kept, 'init-x.blob'), 'a', 'b'], { encoding: 'utf8', env: PLAIN_ENV });
  t.equal(out, 'from the snapshot: a,b\n', "the bundle's top level ran at the build, its main at the start");

  writeFileSync(bundle, "throw new Error('top level failed');");
  await t.rejects(buildStartupSnapshot({ ...HOST_BUILD, bundle, keptDir: kept, fileName: 'init-y.blob' }), {
    code: 'INIT_SNAPSHOT_FAILED',
    message: /Building the startup snapshot of \S+bundle\.cjs ended with exit code 1: .*top level failed/,
  });
  t.same(readdirSync(kept), ['init-x.blob'], 'a failed build leaves the kept snapshot and no temporary file');
  await t.rejects(buildStartupSnapshot({ ...HOST_BUILD, nodeBinary: path.join(dir, 'no-node'), bundle, keptDir: kept, fileName: 'init-y.blob' }), {
    code: 'INIT_SNAPSHOT_FAILED',
    message: /Cannot run \S+no-node/,
  });

  t.equal(await dropKeptSnapshots(kept), 1);
  t.same(readdirSync(kept), []);
  t.equal(await dropKeptSnapshots(path.join(dir, 'absent')), 0, 'no directory, nothing to drop');
});

void t.test("init's bundle, built as the image builder builds it, makes a snapshot whose main runs init's front door", async (t) => {
  const dir = t.testdir({});
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(INIT_BUNDLE_ENTRIES).map(([name, source]) => [name, path.join(repoRoot, source)])),
    outdir: dir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  });
  t.same(result.errors, []);
  const bundle = path.join(dir, 'berth-init.cjs');
  writeFileSync(bundle, withModuleObject(readFileSync(bundle, 'utf8')));
  const built = await buildStartupSnapshot({ ...HOST_BUILD, bundle, keptDir: path.join(dir, 'kept'), fileName: 'init.blob' });
  t.ok(built.bytes > 1_000_000, `a snapshot of ${built.bytes} bytes`);
  // Not PID 1's child, so main.ts's front door only prints its usage: it must not touch the machine.
  const out = execFileSync(process.execPath, ['--snapshot-blob', path.join(dir, 'kept/init.blob'), 'help'], { encoding: 'utf8', env: PLAIN_ENV });
  t.match(out, /^Usage: berth\.mjs/);
  t.notOk(existsSync(path.join(dir, 'kept', '.init.blob.tmp')));
});
