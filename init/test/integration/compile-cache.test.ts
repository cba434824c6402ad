import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { saveCompileCache } from '../../src/compile-cache.ts';

void t.test('saveCompileCache copies new and changed entries to the kept cache, and only those', async (t) => {
  const root = t.testdir({ run: { 'v24.21.0-x64-aaaa-0': { a1: 'one', b2: 'two', '.b2.tmp': 'partial' } }, var: {} });
  const current = path.join(root, 'run/v24.21.0-x64-aaaa-0');
  const kept = path.join(root, 'var/node-compile-cache');
  t.same(await saveCompileCache(current, kept), { written: 2, bytes: 6, removedDirs: 0 }, 'a first boot writes every entry');
  t.same(readdirSync(path.join(kept, 'v24.21.0-x64-aaaa-0')).sort(), ['a1', 'b2'], 'temp files are not entries');
  t.same(await saveCompileCache(current, kept), { written: 0, bytes: 0, removedDirs: 0 }, 'a warm boot writes nothing');
  writeFileSync(path.join(current, 'b2'), 'TWO!');
  t.same(await saveCompileCache(current, kept), { written: 1, bytes: 4, removedDirs: 0 }, 'a recompiled entry is written again');
  t.equal(readFileSync(path.join(kept, 'v24.21.0-x64-aaaa-0/b2'), 'utf8'), 'TWO!');
});

void t.test('saveCompileCache drops the caches of other Node versions or flags once the current one changed', async (t) => {
  const root = t.testdir({ run: { 'v24.22.0-x64-bbbb-0': { c3: 'three' } }, var: { cache: { 'v24.21.0-x64-aaaa-0': { a1: 'one' } } } });
  const kept = path.join(root, 'var/cache');
  t.same(await saveCompileCache(path.join(root, 'run/v24.22.0-x64-bbbb-0'), kept), { written: 1, bytes: 5, removedDirs: 1 });
  t.same(readdirSync(kept), ['v24.22.0-x64-bbbb-0']);
});

void t.test('saveCompileCache with nothing compiled leaves the kept cache alone', async (t) => {
  const root = t.testdir({ var: { cache: { 'v24.21.0-x64-aaaa-0': { a1: 'one' } } } });
  mkdirSync(path.join(root, 'run'));
  t.same(await saveCompileCache(path.join(root, 'run/missing'), path.join(root, 'var/cache')), { written: 0, bytes: 0, removedDirs: 0 });
  t.same(readdirSync(path.join(root, 'var/cache')), ['v24.21.0-x64-aaaa-0']);
});
