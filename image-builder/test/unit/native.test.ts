import t from 'tap';
import { listNativeSources, nativeBinaryName, nativeCompileArgv } from '../../src/steps/native.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('native helpers: one static, warning-free, path-free gcc call per source', async (t) => {
  const argv = nativeCompileArgv('/src/berth', 'berth-pid1.c', '/cache/native/k1');
  t.matchSnapshot(argv, 'gcc argv');
  t.ok(argv.includes('-static'), 'static: the root has no libc contract with the helpers');
  t.ok(argv.includes('-ffile-prefix-map=/src/berth=.'), 'the checkout path never reaches the binary');
  t.equal(nativeBinaryName('berth-monitor.c'), 'berth-monitor');
});

void t.test('native helpers: a source name that is not a kebab-case .c file is refused', async (t) => {
  t.throws(() => nativeCompileArgv('/src', '../evil.c', '/out'), { code: errorCode('BUILD_STEP_FAILED') });
  t.throws(() => nativeCompileArgv('/src', 'Foo Bar.c', '/out'), { code: errorCode('BUILD_STEP_FAILED') });
});

void t.test('native helpers: sources are listed sorted, headers left out; no directory means none', async (t) => {
  const dir = t.testdir({ native: { 'b.c': '', 'a.c': '', 'common.h': '' } });
  t.same(await listNativeSources(dir), ['a.c', 'b.c']);
  t.same(await listNativeSources(t.testdir({})), []);
});
