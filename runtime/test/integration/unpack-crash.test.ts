// A process killed in the middle of an unpack leaves no usable layer: the target does not
// exist, only a .partial- directory that removePartialLayers clears at the next start.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { removePartialLayers, unpackLayer } from '../../src/store/unpack.ts';
import { rawFile, rawTar, streamOf } from './tar-fixtures.ts';

const CHILD = nodePath.join(import.meta.dirname, 'fixtures', 'unpack-child.ts');

void t.test('SIGKILL mid-unpack leaves only a partial directory, which is cleaned up', async (t) => {
  const store = t.testdir({});
  const target = nodePath.join(store, 'layer');
  const tar = rawTar(...Array.from({ length: 400 }, (_, i) => rawFile(`dir${i % 10}/file${i}`, Buffer.alloc(4096, i))));
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, target], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  child.stdin.on('error', () => undefined); // EPIPE once the child is killed
  // Half the archive, then silence: the unpacker is stuck mid-layer, as in a power cut.
  child.stdin.write(tar.subarray(0, Math.floor(tar.length / 2)));

  let partial: string | undefined;
  for (let i = 0; i < 200 && partial === undefined; i += 1) {
    await sleep(50);
    const names = await fsp.readdir(store);
    const candidate = names.find((name) => name.startsWith('.layer.partial-'));
    if (candidate !== undefined && (await fsp.readdir(nodePath.join(store, candidate, 'root')).catch(() => [])).length >= 5) partial = candidate;
  }
  t.ok(partial, 'the unpack got going in a partial directory');
  child.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, string | null];
  t.same([code, signal], [null, 'SIGKILL']);

  t.same(await fsp.readdir(store), [partial], 'no target, only the partial directory');
  t.same(await removePartialLayers(store), [partial]);
  t.same(await fsp.readdir(store), []);

  const result = await unpackLayer(streamOf(tar), { digest: `sha256:${'ee'.repeat(32)}`, target });
  t.equal(result.entries, 400, 'the next attempt unpacks the whole layer');
});
