import t from 'tap';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { renderBootEntry } from '../../../lib/boot-entry.ts';
import { createMemoryLogger } from '../../../lib/log.ts';
import { createBundle, publishBundle } from '../../src/bundle.ts';
import { VerityTreeBuilder } from '../../src/core/verity.ts';
import { initialUpdateState, type UpdateState } from '../../src/core/state.ts';
import { parseUpdateSettings } from '../../../lib/config/sections/update.ts';
import { createUpdateEffects, type EffectDeps } from '../../src/effects.ts';
import type { Clock } from '../../src/gates.ts';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey, signChannelMetadata } from '../../src/signing.ts';
import type { ChannelMetadata } from '../../src/core/release.ts';
import { writeSlot } from '../../src/slot-io.ts';
import { errorCode } from '../../../lib/errors.ts';

const pair = generateSigningKeyPair();
const salt = 'cd'.repeat(32);
const image = Buffer.alloc(16 * 4096);
for (let i = 0; i < image.length; i++) image[i] = (i * 13) % 256;
const built = new VerityTreeBuilder(salt);
built.update(image);
const { tree, rootHash } = built.finish();

/** Sleeping advances this clock instantly. */
let fakeNow = new Date('2026-11-23T10:00:00Z').getTime();
const clock: Clock = {
  now: () => new Date(fakeNow),
  sleep: (ms) => {
    fakeNow += ms;
    return Promise.resolve();
  },
  random: () => 0.5,
};

void t.test('check, download, stage, bless: the real effects against a static server', async (t) => {
  const dir = t.testdir({
    build: { 'root.zst': image, 'root.erofs': image, 'root.verity': tree, vmlinuz: 'kernel 2.0.0', 'initrd.img': 'initrd 2.0.0' },
    server: {},
    var: {},
    esp: {
      loader: { entries: { 'berth-a.conf': renderBootEntry({ slot: 'a', version: '1.0.0', generation: 1, verity: { rootHash: 'ab'.repeat(32), dataBlocks: 16, hashStartBlock: 16, salt }, kernelArgs: ['console=ttyS0', 'panic=10'] }) } },
      berth: { a: { vmlinuz: 'kernel 1.0.0', 'initrd.img': 'initrd 1.0.0' } },
    },
    'root-b.img': Buffer.alloc(32 * 4096),
  });
  // "zstd" here is the identity: the host's Node has no zstd, the decompressor is injected.
  await createBundle({
    outDir: join(dir, 'bundle'),
    version: '2.0.0',
    architecture: 'x86_64',
    channel: 'stable',
    minVersion: '1.0.0',
    created: new Date('2026-11-22T00:00:00Z'),
    privateKey: loadPrivateKey(pair.privateKeyPem),
    rootFilesystem: 'erofs',
    files: { rootCompressed: join(dir, 'build/root.zst'), rootImage: join(dir, 'build/root.erofs'), verityTree: join(dir, 'build/root.verity'), kernel: join(dir, 'build/vmlinuz'), initrd: join(dir, 'build/initrd.img') },
    verity: { rootHash, salt, dataBlocks: 16, hashStartBlock: 16 },
  });
  await publishBundle({ bundleDir: join(dir, 'bundle'), channel: 'stable', toDir: join(dir, 'server'), now: new Date('2026-11-22T01:00:00Z'), privateKey: loadPrivateKey(pair.privateKeyPem) });

  const served: string[] = [];
  const server = createServer((req, res) => {
    served.push(req.url ?? '');
    const path = join(dir, 'server', decodeURIComponent((req.url ?? '/').replace(/^\/berth\//, '')));
    stat(path).then(
      (s) => {
        res.writeHead(200, { 'content-length': s.size });
        createReadStream(path).pipe(res);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/berth/`;

  const { settings } = parseUpdateSettings({ server: base, channel: 'stable' });
  if (!settings) throw new Error('settings');
  let state: UpdateState = initialUpdateState();
  const espMounts: string[] = [];
  const logger = createMemoryLogger('updater');
  const deps: EffectDeps = {
    settings,
    booted: { slot: 'a', version: '1.0.0', bootId: 'boot-1' },
    architecture: 'x86_64',
    trustedKeys: [loadPublicKey(pair.publicKeyPem)],
    state: () => state,
    stateDir: join(dir, 'var'),
    withEsp: async (use) => {
      espMounts.push('mount');
      try {
        return await use(join(dir, 'esp'));
      } finally {
        espMounts.push('umount');
      }
    },
    slotDevice: (slot) => Promise.resolve({ path: join(dir, `root-${slot}.img`), size: 32 * 4096 }),
    writeRoot: async (step, bundleDir, device) => {
      await writeSlot(device, step, bundleDir, () => new PassThrough());
    },
    reboot: () => Promise.resolve(),
    healthSample: () => Promise.resolve({ initUp: true, unhealthyCritical: [] }),
    clock,
    logger,
  };
  const effects = createUpdateEffects(deps);
  const signal = new AbortController().signal;

  const found = await effects.fetchChannel(signal);
  t.same(found, { type: 'check-found-update', version: '2.0.0', bundleUrl: `${base}bundles/2.0.0/manifest.json`, slot: 'b', from: { slot: 'a', version: '1.0.0' } });
  t.same(await effects.downloadBundle('2.0.0', `${base}bundles/2.0.0/manifest.json`, signal), { type: 'download-finished' });
  t.same(await effects.verifyAndStage('2.0.0', 'b', signal), { type: 'stage-finished', bootId: 'boot-1' });
  t.same(espMounts, ['mount', 'umount']);
  t.same(await readdir(join(dir, 'esp/loader/entries')), ['berth-a.conf', 'berth-b+3.conf']);
  const entry = await readFile(join(dir, 'esp/loader/entries/berth-b+3.conf'), 'utf8');
  t.match(entry, /version 2\n/);
  t.match(entry, /options console=ttyS0 panic=10 berth.slot=b berth.version=2.0.0 /);
  t.equal(await readFile(join(dir, 'esp/berth/b/vmlinuz'), 'utf8'), 'kernel 2.0.0');
  const slot = await readFile(join(dir, 'root-b.img'));
  t.equal(createHash('sha256').update(slot.subarray(0, image.length)).digest('hex'), createHash('sha256').update(image).digest('hex'));

  // The new slot booted once (systemd-boot renamed the entry), passed its gate: bless it.
  const { rename } = await import('node:fs/promises');
  await rename(join(dir, 'esp/loader/entries/berth-b+3.conf'), join(dir, 'esp/loader/entries/berth-b+2-1.conf'));
  t.same(await effects.runHealthGate('b', '2.0.0', signal), { type: 'health-passed' });
  await effects.blessSlot('b');
  t.same(await readdir(join(dir, 'esp/loader/entries')), ['berth-a.conf', 'berth-b.conf']);
  await effects.discardDownload();
  t.same(await readdir(join(dir, 'var')), ['update-channel-seen.json'], 'the download is gone; the newest accepted metadata stays');

  // With 2.0.0 recorded as bad, the same channel offers nothing; the running slot is never cleared.
  state = { ...state, badVersions: ['2.0.0'] };
  t.same(await effects.fetchChannel(signal), { type: 'check-no-update', reason: 'known-bad (2.0.0)' });
  await effects.clearSlotEntry('a');
  t.ok((await readdir(join(dir, 'esp/loader/entries'))).includes('berth-a.conf'));
  t.match(logger.lines.join('\n'), /Refusing to clear the running slot entry/);
  await effects.clearSlotEntry('b');
  t.same(await readdir(join(dir, 'esp/loader/entries')), ['berth-a.conf']);
  t.same(await effects.waitForCheck('retry', 3, signal), { type: 'check-requested' });

  // Stale, unsigned or forged channel metadata: refused, and nothing but the channel file is fetched.
  state = initialUpdateState();
  const before = served.length;
  fakeNow = new Date('2026-11-25T01:00:00Z').getTime(); // signed 2026-11-22T01:00, valid 3 days
  t.match(await effects.fetchChannel(signal), { type: 'error', code: errorCode('UPDATER_CHANNEL_EXPIRED'), message: /expired at 2026-11-25T01:00:00.000Z/ });
  fakeNow = new Date('2026-11-23T10:00:00Z').getTime();
  const channelFile = join(dir, 'server/channels/stable.json');
  const envelope = JSON.parse(await readFile(channelFile, 'utf8')) as { signed: string };
  const metadata = JSON.parse(envelope.signed) as ChannelMetadata;
  await writeFile(channelFile, JSON.stringify({ format: 1, ...metadata }));
  t.match(await effects.fetchChannel(signal), { type: 'error', code: errorCode('UPDATER_CHANNEL_UNSIGNED') });
  await writeFile(channelFile, signChannelMetadata(metadata, loadPrivateKey(generateSigningKeyPair().privateKeyPem)));
  t.match(await effects.fetchChannel(signal), { type: 'error', code: errorCode('UPDATER_SIGNATURE_WRONG_KEY') });
  t.same(served.slice(before), Array.from({ length: 3 }, () => '/berth/channels/stable.json'), 'only the channel file was fetched');

  // A replay: the host accepted newer metadata; the older file, validly signed and fresh, is refused.
  const key = loadPrivateKey(pair.privateKeyPem);
  await writeFile(channelFile, signChannelMetadata({ ...metadata, published: '2026-11-23T09:00:00.000Z' }, key));
  t.match(await effects.fetchChannel(signal), { type: 'check-found-update', version: '2.0.0' }, 'newer metadata is accepted');
  t.same(JSON.parse(await readFile(join(dir, 'var/update-channel-seen.json'), 'utf8')), { channel: 'stable', published: '2026-11-23T09:00:00.000Z' }, 'and remembered on /var');
  await writeFile(channelFile, signChannelMetadata(metadata, key));
  t.match(await effects.fetchChannel(signal), { type: 'error', code: errorCode('UPDATER_CHANNEL_REPLAYED'), message: /signed 2026-11-22T01:00:00.000Z, before the newest metadata this host accepted \(signed 2026-11-23T09:00:00.000Z\)/ });
  // Another agent on the same /var (a reboot) remembers it too.
  t.match(await createUpdateEffects(deps).fetchChannel(signal), { type: 'error', code: errorCode('UPDATER_CHANNEL_REPLAYED') }, 'after a restart as well');
});

void t.test('errors become error events; transport errors keep the download', async (t) => {
  const dir = t.testdir({ var: {} });
  const { settings } = parseUpdateSettings({ server: 'http://127.0.0.1:1/berth/' });
  if (!settings) throw new Error('settings');
  const effects = createUpdateEffects({
    settings,
    booted: { slot: 'a', version: '1.0.0', bootId: 'boot-1' },
    architecture: 'x86_64',
    trustedKeys: [],
    state: () => initialUpdateState(),
    stateDir: join(dir, 'var'),
    withEsp: (use) => use(join(dir, 'esp')),
    slotDevice: () => Promise.resolve({ path: join(dir, 'slot'), size: 0 }),
    writeRoot: () => Promise.resolve(),
    reboot: () => Promise.resolve(),
    healthSample: () => Promise.resolve({ initUp: true, unhealthyCritical: [] }),
    clock,
    logger: createMemoryLogger(),
  });
  const signal = new AbortController().signal;
  t.match(await effects.fetchChannel(signal), { type: 'error', code: errorCode('UPDATER_SERVER_UNREACHABLE'), keepDownload: true });
  t.match(await effects.downloadBundle('2.0.0', 'http://127.0.0.1:1/m.json', signal), { type: 'error', code: errorCode('UPDATER_SERVER_UNREACHABLE'), keepDownload: true });
  t.match(await effects.verifyAndStage('2.0.0', 'a', signal), { type: 'error', code: errorCode('UPDATER_SLOT_ACTIVE') });
  const missing = await effects.verifyAndStage('2.0.0', 'b', signal);
  t.match(missing, { type: 'error', code: errorCode('UPDATER_INTERNAL') });
  t.notOk('keepDownload' in missing);
});
