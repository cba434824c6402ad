import t, { type Test } from 'tap';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBundle, publishBundle, type CreateBundleInput } from '../../src/bundle.ts';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey, verifyChannelMetadata, verifyManifest } from '../../src/signing.ts';
import { resolveBundleUrl } from '../../src/core/release.ts';
import { BUNDLE_FILES } from '../../src/core/bundle-manifest.ts';
import { errorCode } from '../../../lib/errors.ts';

const pair = generateSigningKeyPair();
const trusted = [loadPublicKey(pair.publicKeyPem)];
const privateKey = loadPrivateKey(pair.privateKeyPem);

function buildOutputs(dir: string, version: string): CreateBundleInput {
  return {
    outDir: join(dir, `bundle-${version}`),
    version,
    architecture: 'x86_64',
    channel: 'stable',
    minVersion: '1.0.0',
    created: new Date('2026-11-20T10:00:00Z'),
    privateKey: loadPrivateKey(pair.privateKeyPem),
    rootFilesystem: 'squashfs',
    files: { rootCompressed: join(dir, 'build/root.zst'), rootImage: join(dir, 'build/root.erofs'), verityTree: join(dir, 'build/root.verity'), kernel: join(dir, 'build/vmlinuz'), initrd: join(dir, 'build/initrd.img') },
    verity: { rootHash: 'ab'.repeat(32), salt: 'cd'.repeat(32), dataBlocks: 2, hashStartBlock: 2 },
  };
}

function buildDir(t: Test): string {
  return t.testdir({
    build: { 'root.zst': 'compressed root', 'root.erofs': Buffer.alloc(8192, 1), 'root.verity': Buffer.alloc(4096, 2), vmlinuz: 'kernel', 'initrd.img': 'initrd' },
    server: {},
  });
}

void t.test('a created bundle verifies and publishes to a static directory', async (t) => {
  const dir = buildDir(t);
  const input = buildOutputs(dir, '2.0.0');
  const manifest = await createBundle(input);
  t.equal(manifest.payload.root.image_size, 8192);
  t.equal(manifest.payload.verity.size, 4096);
  t.same((await readdir(input.outDir)).sort(), ['initrd.img', 'manifest.json', 'manifest.json.sig', 'root.squashfs.zst', 'root.verity', 'vmlinuz']);
  const verified = verifyManifest(await readFile(join(input.outDir, BUNDLE_FILES.manifest)), await readFile(join(input.outDir, BUNDLE_FILES.signature)), trusted);
  t.same(verified, manifest);

  const published = await publishBundle({ bundleDir: input.outDir, channel: 'stable', toDir: join(dir, 'server'), now: new Date('2026-11-21T08:00:00Z'), privateKey, trustedKeys: trusted });
  const channel = verifyChannelMetadata(await readFile(published.channelPath), trusted, 'stable');
  t.same(channel, {
    channel: 'stable',
    version: '2.0.0',
    bundle_url: '../bundles/2.0.0/manifest.json',
    released: '2026-11-21T08:00:00.000Z',
    min_version: '1.0.0',
    published: '2026-11-21T08:00:00.000Z',
    expires: '2026-11-24T08:00:00.000Z',
  });
  t.equal(resolveBundleUrl('http://10.0.2.100:8080/', channel), 'http://10.0.2.100:8080/bundles/2.0.0/manifest.json');
  t.same((await readdir(join(dir, 'server/bundles/2.0.0'))).sort(), ['initrd.img', 'manifest.json', 'manifest.json.sig', 'root.squashfs.zst', 'root.verity', 'vmlinuz']);
  t.same((await readdir(join(dir, 'server/bundles'))), ['2.0.0'], 'no staging directory left');

  // Re-publishing the same bundle refreshes the signature and expiry, not the release time; a newer one moves the channel.
  await publishBundle({ bundleDir: input.outDir, channel: 'stable', toDir: join(dir, 'server'), now: new Date('2026-11-23T08:00:00Z'), privateKey, validForMs: 86_400_000 });
  t.match(verifyChannelMetadata(await readFile(published.channelPath), trusted, 'stable'), { released: '2026-11-21T08:00:00.000Z', published: '2026-11-23T08:00:00.000Z', expires: '2026-11-24T08:00:00.000Z' });
  await createBundle(buildOutputs(dir, '2.1.0'));
  await publishBundle({ bundleDir: join(dir, 'bundle-2.1.0'), channel: 'stable', toDir: join(dir, 'server'), now: new Date('2026-11-24T08:00:00Z'), privateKey });
  t.match(verifyChannelMetadata(await readFile(published.channelPath), trusted, 'stable'), { version: '2.1.0', released: '2026-11-24T08:00:00.000Z' });
  await t.rejects(createBundle(buildOutputs(dir, '2.1.0')), { code: errorCode('UPDATER_BUNDLE_EXISTS') });
});

void t.test('tampered, mismatched or conflicting bundles are not published', async (t) => {
  const dir = buildDir(t);
  const input = buildOutputs(dir, '3.0.0');
  await createBundle(input);
  const server = join(dir, 'server');
  await t.rejects(publishBundle({ bundleDir: input.outDir, channel: 'stable', toDir: server, now: new Date(), privateKey, trustedKeys: [loadPublicKey(generateSigningKeyPair().publicKeyPem)] }), { code: errorCode('UPDATER_SIGNATURE_WRONG_KEY') });
  await writeFile(join(input.outDir, 'vmlinuz'), 'evil kernel');
  await t.rejects(publishBundle({ bundleDir: input.outDir, channel: 'stable', toDir: server, now: new Date(), privateKey, trustedKeys: trusted }), { code: errorCode('UPDATER_HASH_MISMATCH') });
  const manifestPath = join(input.outDir, BUNDLE_FILES.manifest);
  await writeFile(manifestPath, (await readFile(manifestPath, 'utf8')).replace('"min_version":"1.0.0"', '"min_version":"0.1.0"'));
  await t.rejects(publishBundle({ bundleDir: input.outDir, channel: 'stable', toDir: server, now: new Date(), privateKey, trustedKeys: trusted }), { code: errorCode('UPDATER_SIGNATURE_INVALID') });
  t.same(await readdir(server), [], 'nothing was published');

  // A different bundle under an already published version.
  const first = buildOutputs(join(dir, 'x'), '4.0.0');
  first.files = input.files;
  first.outDir = join(dir, 'b4a');
  await createBundle(first);
  await publishBundle({ bundleDir: first.outDir, channel: 'stable', toDir: server, now: new Date(), privateKey });
  const second = { ...first, outDir: join(dir, 'b4b'), created: new Date('2026-11-22T00:00:00Z') };
  await createBundle(second);
  await t.rejects(publishBundle({ bundleDir: second.outDir, channel: 'stable', toDir: server, now: new Date(), privateKey }), { code: errorCode('UPDATER_PUBLISH_CONFLICT') });
});
