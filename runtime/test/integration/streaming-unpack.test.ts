// A pull for a container unpacks each layer while its blob downloads: the layer is written as the
// bytes arrive, named only once the blob store verified the blob, and done again from the stored
// blob whenever the overlap could not be used.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import * as nodePath from 'node:path';
import t from 'tap';
import { errorCode } from '../../../lib/errors.ts';
import { createMemoryLogger } from '../../../lib/log.ts';
import { MEDIA_TYPES } from '../../src/core/manifest.ts';
import { LocalImages } from '../../src/images.ts';
import { createBlobStore } from '../../src/store/blobs.ts';
import type { RegistryClient } from '../../src/store/registry-client.ts';
import { gzip, packTar } from './tar-fixtures.ts';

const sha = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface Fixture {
  blobs: Map<string, Buffer>;
  manifestDigest: string;
  layer: Buffer;
  layerDigest: string;
  diffId: string;
}

async function buildImage(): Promise<Fixture> {
  const noise = createHash('sha512');
  const big: Buffer[] = [];
  for (let i = 0; i < 8000; i += 1) big.push(noise.update(String(i)).copy().digest());
  // etc/first comes first in the archive: it is on disk long before the blob has all arrived.
  const tar = await packTar([{ name: 'etc/first', body: 'first\n' }, { name: 'srv/data.bin', body: Buffer.concat(big) }]);
  const layer = gzip(tar);
  const blobs = new Map<string, Buffer>();
  const add = (bytes: Buffer): { digest: string; size: number } => {
    blobs.set(sha(bytes), bytes);
    return { digest: sha(bytes), size: bytes.length };
  };
  const layerDescriptor = { ...add(layer), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
  const config = { ...add(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }))), mediaType: MEDIA_TYPES.ociConfig };
  const manifest = add(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layerDescriptor] })));
  return { blobs, manifestDigest: manifest.digest, layer, layerDigest: layerDescriptor.digest, diffId: sha(tar) };
}

type Serve = (digest: string, bytes: Buffer, offset: number) => AsyncIterable<Uint8Array>;

async function* inChunks(bytes: Buffer, offset: number): AsyncIterable<Uint8Array> {
  for (let at = offset; at < bytes.length; at += 16 * 1024) yield bytes.subarray(at, at + 16 * 1024);
}

function registryOf(fixture: Fixture, serve: Serve = (_digest, bytes, offset) => inChunks(bytes, offset)): RegistryClient {
  return {
    getManifest: (_reference, selector) => {
      const digest = selector?.startsWith('sha256:') === true ? selector : fixture.manifestDigest;
      return Promise.resolve({ bytes: fixture.blobs.get(digest) ?? Buffer.alloc(0), mediaType: MEDIA_TYPES.ociManifest, digest });
    },
    openBlob: (_reference, digest, offset) => Promise.resolve(serve(digest, fixture.blobs.get(digest) ?? Buffer.alloc(0), offset)),
  };
}

function setUp(t: { testdir(): string }, fixture: Fixture, serve?: Serve): { images: LocalImages; layersDir: string; logger: ReturnType<typeof createMemoryLogger>; blobsDir: string } {
  const dir = t.testdir();
  const logger = createMemoryLogger('runtime');
  const blobsDir = nodePath.join(dir, 'store', 'blobs');
  const images = new LocalImages({ store: createBlobStore(blobsDir), root: nodePath.join(dir, 'store'), logger, registry: registryOf(fixture, serve) });
  return { images, layersDir: nodePath.join(dir, 'layers'), logger, blobsDir };
}

const REFERENCE = 'registry.test/team/app:1';

void t.test('a pull for a container unpacks its layer while the blob downloads', async (t) => {
  const fixture = await buildImage();
  let seenBeforeLastChunk: string[] = [];
  let layersDir = '';
  const serve: Serve = async function* (digest, bytes, offset) {
    for await (const chunk of inChunks(bytes, offset)) {
      if (digest === fixture.layerDigest && (chunk as Buffer).byteOffset + chunk.length === bytes.byteOffset + bytes.length) {
        // Let the unpacker catch up with what it was given, then look at what it wrote so far.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const partial = (await readdir(layersDir)).filter((name) => name.includes('.partial-'));
        seenBeforeLastChunk = (await Promise.all(partial.map((name) => readdir(nodePath.join(layersDir, name, 'root', 'etc')).catch(() => [])))).flat();
      }
      yield chunk;
    }
  };
  const setup = setUp(t, fixture, serve);
  layersDir = setup.layersDir;
  const image = await setup.images.resolve(REFERENCE, layersDir);
  t.same(seenBeforeLastChunk, ['first'], 'the layer was being written before its last bytes arrived');
  t.equal(image.unpackedWhilePulling.length, 1);
  t.match(image.unpackedWhilePulling[0], { digest: fixture.layerDigest, diffId: fixture.diffId });
  t.equal(await readFile(nodePath.join(layersDir, fixture.diffId.replace(':', '-'), 'root', 'etc', 'first'), 'utf8'), 'first\n');
  const { unpacked } = await setup.images.unpack(image, layersDir);
  t.same(unpacked, [], 'unpack() has nothing left to do');
  t.ok((await stat(nodePath.join(setup.blobsDir, 'sha256', fixture.layerDigest.slice(7)))).isFile(), 'the blob is stored as well');
  t.same((await setup.images.resolve(REFERENCE, layersDir)).unpackedWhilePulling, [], 'a held image is not pulled again');
});

void t.test('a layer whose blob the store refuses is never named, even when its content unpacks', async (t) => {
  const fixture = await buildImage();
  // The same tar with another gzip header (its OS byte): as long, the same diff_id, another digest.
  const tampered = Buffer.from(fixture.layer);
  tampered[9] = tampered[9] === 3 ? 255 : 3;
  const setup = setUp(t, fixture, (digest, bytes, offset) => inChunks(digest === fixture.layerDigest ? tampered : bytes, offset));
  await t.rejects(setup.images.resolve(REFERENCE, setup.layersDir), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH') });
  t.same(await readdir(setup.layersDir), [], 'no layer directory and no partial one is left');
});

void t.test('a download cut and resumed is unpacked once; a resume of an earlier pull\'s partial blob is unpacked after', async (t) => {
  const fixture = await buildImage();
  let cut = false;
  const serve: Serve = async function* (digest, bytes, offset) {
    let sent = 0;
    for await (const chunk of inChunks(bytes, offset)) {
      if (digest === fixture.layerDigest && !cut && sent > bytes.length / 2) {
        cut = true;
        throw new Error('connection reset');
      }
      sent += chunk.length;
      yield chunk;
    }
  };
  const setup = setUp(t, fixture, serve);
  const image = await setup.images.resolve(REFERENCE, setup.layersDir);
  t.ok(cut, 'the download was cut');
  t.equal(image.unpackedWhilePulling.length, 1, 'the resumed download went on feeding the same unpack');

  // A pull that stopped for good leaves its partial blob; the next pull resumes from it, bytes
  // the unpacker never saw: the layer is unpacked from the stored blob instead.
  const again = await buildImage();
  let failing = true;
  const second = setUp(t, again, async function* (digest, bytes, offset) {
    let sent = 0;
    for await (const chunk of inChunks(bytes, offset)) {
      if (digest === again.layerDigest && failing && offset + sent > bytes.length / 3) throw new Error('connection reset');
      sent += chunk.length;
      yield chunk;
    }
  });
  await t.rejects(second.images.resolve(REFERENCE, second.layersDir));
  t.same(await readdir(second.layersDir), [], 'the failed pull leaves no layer behind');
  failing = false;
  const resumed = await second.images.resolve(REFERENCE, second.layersDir);
  t.same(resumed.unpackedWhilePulling, []);
  t.ok(second.logger.lines.some((line) => line.includes('msg="Layer to be unpacked after its download"') && line.includes('resumed at byte')), 'the log says why');
  const { unpacked } = await second.images.unpack(resumed, second.layersDir);
  t.match(unpacked, [{ diffId: again.diffId }], 'unpack() does it from the stored blob');
});
