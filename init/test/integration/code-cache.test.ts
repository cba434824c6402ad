/**
 * Init's bundle compiled through vm.Script with a code cache taken after it ran (code-cache.ts),
 * and its stack traces mapped to TypeScript (stack-traces.ts), on small bundles esbuild makes
 * here the way the image builder makes berth-init.cjs.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import nodeModule from 'node:module';
import path from 'node:path';
import { buildSync } from 'esbuild';
import t from 'tap';
import { codeCacheDirName, codeCacheFileName, frameCodeCache, loadBundle, saveCodeCache, unframeCodeCache } from '../../src/code-cache.ts';
import { mapBundlePositions, mapStackTraces, repositoryPath } from '../../src/stack-traces.ts';

interface Fixture {
  add(a: number, b: number): number;
  work(n: number): number;
  fail(): never;
}

// Line 9 of src/fixture.ts throws.
const SOURCE = [
  'export function add(a: number, b: number): number {',
  '  return a + b;',
  '}',
  'export function work(n: number): number {',
  '  let sum = 0;',
  '  for (let i = 0; i < n; i += 1) sum += add(i, 1);',
  '  return sum;',
  '}',
  "export function fail(): never { throw new Error('fixture failed'); }",
  '',
].join('\n');

function bundle(dir: string, source = SOURCE): string {
  writeFileSync(path.join(dir, 'src/fixture.ts'), source);
  const outfile = path.join(dir, 'lib/fixture.cjs');
  buildSync({ entryPoints: [path.join(dir, 'src/fixture.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', sourcemap: 'linked', sourcesContent: false, logLevel: 'silent' });
  return outfile;
}

void t.test('a bundle compiles without a cache, keeps one taken after it ran, and the next load uses it', async (t) => {
  const dir = t.testdir({ src: {}, lib: {}, run: {}, var: {} });
  const file = bundle(dir);
  const off = loadBundle<Fixture>(file, undefined);
  t.equal(off.cache, 'off', 'children compile without a cache');
  t.equal(off.exports.add(2, 3), 5);

  const first = loadBundle<Fixture>(file, path.join(dir, 'var'));
  t.equal(first.cache, 'missing', 'a first boot has none');
  const beforeRunning = first.createCache().length;
  t.equal(first.exports.work(100), 5050);
  const data = first.createCache();
  t.ok(data.length > beforeRunning, `a cache taken after the functions ran holds them (${beforeRunning} -> ${data.length} bytes)`);
  t.same(first.cacheName, { dir: codeCacheDirName(), file: codeCacheFileName('fixture', readFileSync(file)) });

  const saved = await saveCodeCache(data, first.cacheName, path.join(dir, 'var'));
  t.same(saved, { bytes: data.length + 4, removed: 0 }, 'the cache and its CRC-32');
  t.same(await saveCodeCache(data, first.cacheName, path.join(dir, 'var')), { bytes: 0, removed: 0 }, 'the same cache is not written again');

  const warm = loadBundle<Fixture>(file, path.join(dir, 'var'));
  t.equal(warm.cache, 'accepted');
  t.equal(warm.exports.work(10), 55, 'the bundle runs from the cache');

  // A damaged file (V8 does not checksum caches in release builds) is not given to V8.
  const kept = path.join(dir, 'var', first.cacheName.dir, first.cacheName.file);
  const damaged = readFileSync(kept);
  damaged.writeUInt8(damaged.readUInt8(damaged.length >> 1) ^ 0xff, damaged.length >> 1);
  writeFileSync(kept, damaged);
  const afterDamage = loadBundle<Fixture>(file, path.join(dir, 'var'));
  t.equal(afterDamage.cache, 'damaged');
  t.equal(afterDamage.exports.add(2, 2), 4, 'compiled from source');
});

void t.test('the kept file is the CRC-32 of the cache, then the cache', async (t) => {
  const framed = frameCodeCache(Buffer.from('cache bytes'));
  t.equal(framed.length, 4 + 11);
  t.same(unframeCodeCache(framed), Buffer.from('cache bytes'));
  t.equal(unframeCodeCache(framed.subarray(0, 4)), undefined, 'nothing after the CRC');
  t.equal(unframeCodeCache(Buffer.concat([framed, Buffer.from('x')])), undefined, 'a byte more');
});

void t.test("a cache V8 cannot use is rejected and the bundle compiles from source; another bundle's cache is never read", async (t) => {
  const dir = t.testdir({ src: {}, lib: {}, var: {} });
  const file = bundle(dir);
  const name = { dir: codeCacheDirName(), file: codeCacheFileName('fixture', readFileSync(file)) };
  await saveCodeCache(Buffer.from('not a V8 code cache'), name, path.join(dir, 'var'));
  const loaded = loadBundle<Fixture>(file, path.join(dir, 'var'));
  t.equal(loaded.cache, 'rejected');
  t.equal(loaded.exports.add(1, 1), 2);

  // V8 checks only the source's length: a bundle of the same length has a cache name of its own.
  const same = readFileSync(file);
  const other = Buffer.from(same.toString('latin1').replace('fixture failed', 'fixture FAILED'), 'latin1');
  t.equal(other.length, same.length);
  t.not(codeCacheFileName('fixture', other), codeCacheFileName('fixture', same));
});

void t.test('keeping a cache removes those of other bundles and other V8 versions', async (t) => {
  const root = t.testdir({ var: { 'v8-11.0.0-x64': { 'berth-init-00000000-1.v8cache': 'old' }, [codeCacheDirName()]: { 'berth-init-11111111-2.v8cache': 'old bundle', '.berth-init.tmp': 'torn' } } });
  const name = { dir: codeCacheDirName(), file: 'berth-init-22222222-3.v8cache' };
  t.same(await saveCodeCache(Buffer.from('new'), name, path.join(root, 'var')), { bytes: 7, removed: 3 });
  t.same(readdirSync(path.join(root, 'var')), [codeCacheDirName()]);
  t.same(readdirSync(path.join(root, 'var', codeCacheDirName())), ['berth-init-22222222-3.v8cache']);
});

void t.test("stack traces name the TypeScript source of the bundle's frames", async (t) => {
  const dir = t.testdir({ src: {}, lib: {} });
  const file = bundle(dir);
  const previous = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
  t.teardown(() => {
    if (previous) Object.defineProperty(Error, 'prepareStackTrace', previous);
  });
  mapStackTraces(file);
  const loaded = loadBundle<Fixture>(file, undefined);
  const error = t.throws(() => loaded.exports.fail()) as Error;
  t.match(error.stack, /^Error: fixture failed\n/, "Node's formatting stays");
  t.match(error.stack, /at (Object\.)?fail \(src\/fixture\.ts:9:\d+\)/, 'the frame is mapped');
  t.notMatch(error.stack, /fixture\.cjs:/, 'no bundle position is left');
  // Frames outside the bundle are left as they are.
  t.match(new Error('here').stack, /code-cache\.test\.ts/);

  t.equal(repositoryPath('../../init/src/main.ts'), 'init/src/main.ts');
  t.equal(repositoryPath('./a.ts'), 'a.ts');
  const map = new nodeModule.SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as nodeModule.SourceMapPayload);
  t.equal(mapBundlePositions(`at x (${file}:99999:1)`, file, map).includes('fixture.ts'), true, 'past the end: the last mapping (V8 never reports such a line)');
  t.equal(mapBundlePositions('at y (/elsewhere.cjs:3:4)', file, map), 'at y (/elsewhere.cjs:3:4)');
});
