import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadBundle } from '../../src/download.ts';
import { pace, pacedPieceBytes, PACING_BURST_MS, startPacing } from '../../src/core/pacing.ts';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey, signManifest } from '../../src/signing.ts';
import { sampleManifest } from './fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const pair = generateSigningKeyPair();
const trusted = [loadPublicKey(pair.publicKeyPem)];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const files: Record<string, Buffer> = {
  'root.erofs.zst': Buffer.alloc(300_000, 7),
  'root.verity': Buffer.alloc(20_000, 8),
  vmlinuz: Buffer.from('kernel '.repeat(3000)),
  'initrd.img': Buffer.from('initrd '.repeat(2000)),
};

function signedBundle(): { manifest: Buffer; signature: Buffer } {
  const m = sampleManifest();
  m.payload.root = { ...m.payload.root, size: files['root.erofs.zst']?.length ?? 0, sha256: sha(files['root.erofs.zst'] ?? Buffer.alloc(0)) };
  m.payload.verity = { ...m.payload.verity, size: files['root.verity']?.length ?? 0, sha256: sha(files['root.verity'] ?? Buffer.alloc(0)) };
  m.payload.kernel = { path: 'vmlinuz', size: files.vmlinuz?.length ?? 0, sha256: sha(files.vmlinuz ?? Buffer.alloc(0)) };
  m.payload.initrd = { path: 'initrd.img', size: files['initrd.img']?.length ?? 0, sha256: sha(files['initrd.img'] ?? Buffer.alloc(0)) };
  const signed = signManifest(m, loadPrivateKey(pair.privateKeyPem));
  return { manifest: Buffer.from(signed.manifestBytes), signature: Buffer.from(signed.signatureBytes) };
}

interface Stub {
  base: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  /** Per-path behaviour for the next requests. */
  behave: Map<string, 'cut' | 'ignore-range' | 'error' | 'stall' | 'extra'>;
  content: Map<string, Buffer>;
}

async function startServer(t: Test): Promise<Stub> {
  const bundle = signedBundle();
  const content = new Map<string, Buffer>([
    ['manifest.json', bundle.manifest],
    ['manifest.json.sig', bundle.signature],
    ...Object.entries(files),
  ]);
  const stub: Stub = { base: '', requests: [], behave: new Map(), content };
  const server = createServer((req, res) => {
    stub.requests.push({ url: req.url ?? '', headers: req.headers });
    const name = (req.url ?? '').replace(/^\/bundles\/2\.0\.0\//, '');
    const body = content.get(name);
    const behaviour = stub.behave.get(name);
    if (!body || behaviour === 'error') {
      res.writeHead(body ? 503 : 404);
      return res.end();
    }
    if (behaviour === 'stall') return; // never answers
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && behaviour !== 'ignore-range') {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 });
      if (behaviour === 'cut') {
        stub.behave.delete(name);
        // Dropped a moment later: a stream that errors discards what its reader has not taken yet.
        res.write(body.subarray(start, start + Math.min(100_000, Math.floor((end - start + 1) / 2))), () => setTimeout(() => res.destroy(), 100));
        return;
      }
      return res.end(body.subarray(start, end + 1));
    }
    if (behaviour === 'extra') {
      res.writeHead(200);
      return res.end(Buffer.concat([body, Buffer.from('more')]));
    }
    res.writeHead(200, { 'content-length': body.length });
    if (behaviour === 'cut') {
      stub.behave.delete(name);
      // Send part of the body, then drop the connection.
      res.write(body.subarray(0, 100_000), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  stub.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundles/2.0.0/`;
  return stub;
}

const names = (stub: Stub): string[] => stub.requests.map((r) => `${r.url.split('/').pop() ?? ''}${r.headers.range ? ` ${r.headers.range}` : ''}`);

void t.test('downloads, verifies and stores a bundle', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  const progress: string[] = [];
  const manifest = await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted, onProgress: (n, b, total) => b === total && progress.push(n) });
  t.equal(manifest.version, '2.0.0');
  t.same(names(stub), ['manifest.json', 'manifest.json.sig', 'root.erofs.zst', 'root.verity', 'vmlinuz', 'initrd.img']);
  t.same(progress, ['root', 'verity', 'kernel', 'initrd']);
  for (const [name, body] of Object.entries(files)) t.same(await readFile(join(dir, name)), body, name);
  // Everything there already: only the manifest is fetched again.
  stub.requests.length = 0;
  await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted });
  t.same(names(stub), ['manifest.json', 'manifest.json.sig']);
});

void t.test('a request that fails before any answer (a kept-alive connection the server closed) is sent once more', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  const attempts: string[] = [];
  // The first attempt at each URL fails as undici does on a closed keep-alive socket.
  const flaky: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    attempts.push(url.split('/').pop() ?? '');
    if (attempts.filter((a) => a === url.split('/').pop()).length === 1) return Promise.reject(new TypeError('fetch failed', { cause: new Error('other side closed') }));
    return fetch(input, init);
  };
  const manifest = await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted, fetch: flaky });
  t.equal(manifest.version, '2.0.0');
  t.same(names(stub), ['manifest.json', 'manifest.json.sig', 'root.erofs.zst', 'root.verity', 'vmlinuz', 'initrd.img'], 'each reached the server once');
  t.equal(attempts.length, 12, 'two attempts each');
  // Failing again: once more only, then the typed error.
  let calls = 0;
  const down: typeof fetch = () => {
    calls += 1;
    return Promise.reject(new TypeError('fetch failed'));
  };
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir: t.testdir({}), channel: 'stable', trustedKeys: trusted, fetch: down }), { code: 'UPDATER_SERVER_UNREACHABLE' });
  t.equal(calls, 2, 'one retry, not more');
});

void t.test('a cut download resumes with a Range request', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  stub.behave.set('root.erofs.zst', 'cut');
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted }), { code: errorCode('UPDATER_PAYLOAD_TRUNCATED') });
  const partial = (await readFile(join(dir, 'root.erofs.zst'))).length;
  t.ok(partial > 0 && partial < 300_000, `partial file kept (${partial} bytes)`);
  stub.requests.length = 0;
  await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted });
  t.equal(names(stub)[2], `root.erofs.zst bytes=${partial}-`);
  t.same(await readFile(join(dir, 'root.erofs.zst')), files['root.erofs.zst']);
});

void t.test('a server that ignores Range gets a fresh download', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({ 'root.erofs.zst': Buffer.alloc(1000, 7) });
  stub.behave.set('root.erofs.zst', 'ignore-range');
  await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted });
  t.equal(names(stub)[2], 'root.erofs.zst bytes=1000-');
  t.same(await readFile(join(dir, 'root.erofs.zst')), files['root.erofs.zst']);
});

void t.test('pace: each chunk is due bytes/rate after the last; a reader that fell behind catches up by at most the burst', (t) => {
  const start = startPacing(1000);
  t.same(pace(start, 100_000, 1000, 100_000), { schedule: { dueMs: 2000 }, delayMs: 1000 }, 'on time: wait for the chunk to be due');
  t.same(pace(start, 100_000, 1200, 100_000), { schedule: { dueMs: 2000 }, delayMs: 800 }, 'the time spent reading counts, within the burst');
  t.same(pace(start, 200_000, 1000 + PACING_BURST_MS + 400, 100_000), { schedule: { dueMs: 3400 }, delayMs: 2000 - PACING_BURST_MS }, 'late by more than the burst: the excess is not credited');
  t.same(pace({ dueMs: 2000 }, 10_000, 2200, 100_000), { schedule: { dueMs: 2100 }, delayMs: 0 }, 'behind its schedule by less than the burst: reads on without a wait');
  // Stalled for 10 s: the credit beyond the burst is gone, so the next chunks wait again soon.
  let schedule = start;
  let waited = 0;
  let nowMs = 11_000;
  for (let chunk = 0; chunk < 20; chunk += 1) {
    const step = pace(schedule, 10_000, nowMs, 100_000);
    schedule = step.schedule;
    waited += step.delayMs;
    nowMs += step.delayMs;
  }
  t.equal(schedule.dueMs, 11_000 - PACING_BURST_MS + 2000, 'after a stall the schedule restarts one burst behind the clock');
  t.equal(waited, 2000 - PACING_BURST_MS, 'so 200 kB after a 10 s stall take 2 s less the burst, not 0 s');
  t.same(pace(start, 1, 0, 0), { schedule: start, delayMs: 0 }, 'no limit');
  t.end();
});

void t.test('pacedPieceBytes: half a second at the rate, within 64 KiB and 16 MiB', (t) => {
  t.equal(pacedPieceBytes(2 * 1024 * 1024), 1024 * 1024);
  t.equal(pacedPieceBytes(1000), 64 * 1024, 'a slow rate still asks for 64 KiB at a time');
  t.equal(pacedPieceBytes(1024 * 1024 * 1024), 16 * 1024 * 1024, 'a fast one at most 16 MiB');
  t.end();
});

void t.test('a paced download from a server that ignores Range takes the whole body in one answer', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  stub.behave.set('root.erofs.zst', 'ignore-range');
  const pacingClock = { monotonicMs: () => 0, sleep: () => Promise.resolve() };
  await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted, downloadBps: 64 * 1024, pacingClock });
  t.same(
    names(stub).filter((n) => n.startsWith('root.erofs')),
    [`root.erofs.zst bytes=0-${64 * 1024 - 1}`],
    'asked for a piece, answered 200 with everything: no second request',
  );
  t.same(await readFile(join(dir, 'root.erofs.zst')), files['root.erofs.zst']);
});

void t.test('download_bps paces the reader: bytes taken never run ahead of the rate, a resumed download too', async (t) => {

  const stub = await startServer(t);
  const dir = t.testdir({});
  // A fake clock that only moves when the download sleeps: the reader's own pace, no timing asserts.
  let nowMs = 0;
  const checkpoints: { at: number; bytes: number }[] = [];
  let taken = 0;
  const pacingClock = {
    monotonicMs: () => nowMs,
    sleep: (ms: number) => {
      nowMs += ms;
      checkpoints.push({ at: nowMs, bytes: taken });
      return Promise.resolve();
    },
  };
  const rate = 64 * 1024;
  stub.behave.set('root.erofs.zst', 'cut');
  await t.rejects(
    downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted, downloadBps: rate, pacingClock, onProgress: (n, b) => n === 'root' && (taken = b) }),
    { code: errorCode('UPDATER_PAYLOAD_TRUNCATED') },
  );
  const cutAt = (await readFile(join(dir, 'root.erofs.zst'))).length;
  t.ok(checkpoints.length > 0, 'the reader waited');
  for (const c of checkpoints) t.ok(c.bytes <= (c.at / 1000) * rate + 1, `at ${c.at} ms: ${c.bytes} bytes taken, within the rate`);
  t.equal(nowMs, Math.ceil((cutAt / rate) * 1000), 'the whole cut part took exactly its time at the rate');

  // Resumed: paced again from the first new byte.
  const resumedFrom = nowMs;
  const before = checkpoints.length;
  await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted, downloadBps: rate, pacingClock, onProgress: (n, b) => n === 'root' && (taken = b) });
  const rootRest = 300_000 - cutAt;
  const others = 20_000 + files.vmlinuz!.length + files['initrd.img']!.length;
  t.ok(checkpoints.length > before, 'the resumed download is paced');
  // In Range pieces of at most pacedPieceBytes, each starting where the last ended.
  const rootRanges = names(stub)
    .filter((n) => n.startsWith('root.erofs.zst'))
    .map((n) => /bytes=(\d+)-(\d+)$/.exec(n))
    .map((m) => (m ? [Number(m[1]), Number(m[2])] : [NaN, NaN]));
  const piece = pacedPieceBytes(rate);
  t.ok(rootRanges.length >= 3, `the root payload was asked for in pieces (${names(stub).filter((n) => n.startsWith('root')).join(', ')})`);
  t.ok(rootRanges.every(([from, to]) => (to ?? NaN) - (from ?? NaN) + 1 <= piece), `each piece at most ${piece} bytes`);
  t.equal(rootRanges.at(-1)?.[1], 300_000 - 1, 'the last piece ends at the last byte');
  const resumedRanges = rootRanges.slice(1);
  t.ok(resumedRanges.every(([from], i) => i === 0 || from === (resumedRanges[i - 1]?.[1] ?? NaN) + 1), 'after the cut, each piece starts where the last ended');
  t.equal(rootRanges[1]?.[0], cutAt, 'the first piece after the cut starts at the bytes kept');
  t.ok(nowMs - resumedFrom >= Math.floor(((rootRest + others) / rate) * 1000) - 4, `the rest took at least its time at the rate (${nowMs - resumedFrom} ms)`);
  t.same(await readFile(join(dir, 'root.erofs.zst')), files['root.erofs.zst']);
});

void t.test('bad signatures stop before any payload is fetched', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  const manifest = stub.content.get('manifest.json') ?? Buffer.alloc(0);
  stub.content.set('manifest.json', Buffer.from(manifest.toString().replace('"2.0.0"', '"2.0.1"')));
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted }), { code: errorCode('UPDATER_SIGNATURE_INVALID') });
  stub.content.set('manifest.json', manifest);
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: [loadPublicKey(generateSigningKeyPair().publicKeyPem)] }), { code: errorCode('UPDATER_SIGNATURE_WRONG_KEY') });
  t.same(names(stub), ['manifest.json', 'manifest.json.sig', 'manifest.json', 'manifest.json.sig']);
  t.same(await readdir(dir), [], 'nothing stored');
});

void t.test('a bundle signed for another channel stops before any payload is fetched', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'beta', trustedKeys: trusted }), {
    code: errorCode('UPDATER_WRONG_CHANNEL'),
    message: 'Refusing bundle 2.0.0: it is signed for channel stable, this host follows channel beta; publish a bundle built with --channel beta, or change update.channel',
  });
  t.same(names(stub), ['manifest.json', 'manifest.json.sig'], 'only the manifest and its signature');
  t.same(await readdir(dir), [], 'nothing stored');
});

void t.test('wrong payloads are refused and not kept', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  stub.content.set('vmlinuz', Buffer.from('evil '.repeat(4200)));
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted }), { code: errorCode('UPDATER_HASH_MISMATCH') });
  t.notOk((await readdir(dir)).includes('vmlinuz'));
  stub.content.set('vmlinuz', files.vmlinuz ?? Buffer.alloc(0));
  stub.behave.set('initrd.img', 'extra');
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted }), { code: errorCode('UPDATER_PAYLOAD_TOO_LARGE') });
  t.notOk((await readdir(dir)).includes('initrd.img'));
  // A complete but corrupted local file is fetched again.
  stub.behave.delete('initrd.img');
  await writeFile(join(dir, 'vmlinuz'), Buffer.alloc(files.vmlinuz?.length ?? 0, 0));
  await downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted });
  t.same(await readFile(join(dir, 'vmlinuz')), files.vmlinuz);
});

void t.test('server errors, unreachable servers and stalls are typed', async (t) => {
  const stub = await startServer(t);
  const dir = t.testdir({});
  stub.behave.set('root.verity', 'error');
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted }), { code: errorCode('UPDATER_HTTP_ERROR') });
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}missing.json`, dir, channel: 'stable', trustedKeys: trusted }), { code: errorCode('UPDATER_HTTP_ERROR') });
  stub.behave.delete('root.verity');
  stub.behave.set('vmlinuz', 'stall');
  await t.rejects(downloadBundle({ manifestUrl: `${stub.base}manifest.json`, dir, channel: 'stable', trustedKeys: trusted, idleTimeoutMs: 200 }), { code: errorCode('UPDATER_TIMEOUT') });
  await t.rejects(downloadBundle({ manifestUrl: 'http://127.0.0.1:1/manifest.json', dir, channel: 'stable', trustedKeys: trusted }), { code: errorCode('UPDATER_SERVER_UNREACHABLE') });
});
