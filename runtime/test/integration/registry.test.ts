// Pulling from a registry on loopback: a tiny OCI Distribution server with Bearer-token auth,
// a blob CDN on another origin (credentials must not follow the redirect), a flaky 503, and
// a download cut in half that must resume with a Range request.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as nodePath from 'node:path';
import t from 'tap';
import { MEDIA_TYPES } from '../../src/core/manifest.ts';
import { parseReference } from '../../src/core/reference.ts';
import { createBlobStore } from '../../src/store/blobs.ts';
import { unpackImage } from '../../src/store/image-layout.ts';
import { createRegistryClient, pullImage, type PullProgress, type RegistrySettings } from '../../src/store/registry-client.ts';
import { gzip, packTar } from './tar-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const sha = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface Blob {
  bytes: Buffer;
  mediaType: string;
}

interface Fixture {
  blobs: Map<string, Blob>;
  tags: Map<string, string>;
  layerDigest: string;
  indexDigest: string;
  manifestDigest: string;
}

async function buildImage(): Promise<Fixture> {
  const blobs = new Map<string, Blob>();
  const add = (bytes: Buffer, mediaType: string): { digest: string; size: number; mediaType: string } => {
    const digest = sha(bytes);
    blobs.set(digest, { bytes, mediaType });
    return { digest, size: bytes.length, mediaType };
  };
  // Incompressible content so the layer is big enough to be cut in half.
  const noise = createHash('sha512');
  const chunks: Buffer[] = [];
  for (let i = 0; i < 4000; i += 1) chunks.push(noise.update(String(i)).copy().digest());
  const tar = await packTar([{ name: 'srv/data.bin', body: Buffer.concat(chunks) }, { name: 'etc/hostname', body: 'pulled\n' }]);
  const layer = add(gzip(tar), 'application/vnd.oci.image.layer.v1.tar+gzip');
  const config = add(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: [sha(tar)] } })), MEDIA_TYPES.ociConfig);
  const manifest = add(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layer] })), MEDIA_TYPES.ociManifest);
  const index = add(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ ...manifest, platform: { os: 'linux', architecture: 'amd64' } }] })),
    MEDIA_TYPES.ociIndex,
  );
  return { blobs, tags: new Map([['1.0', index.digest]]), layerDigest: layer.digest, indexDigest: index.digest, manifestDigest: manifest.digest };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Log {
  requests: string[];
  cdnAuthHeaders: (string | undefined)[];
}

async function startRegistry(t: { teardown(fn: () => void): void }, fixture: Fixture, options: { password?: string } = {}): Promise<{ host: string; log: Log }> {
  const log: Log = { requests: [], cdnAuthHeaders: [] };
  let cutDone = false;
  const cdn = createServer((req: IncomingMessage, res: ServerResponse) => {
    const digest = decodeURIComponent((req.url ?? '').replace('/cdn/', ''));
    log.cdnAuthHeaders.push(req.headers.authorization);
    const blob = fixture.blobs.get(digest);
    if (blob === undefined) return void res.writeHead(404).end();
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range === null ? 0 : Number(range[1]);
    log.requests.push(`cdn ${digest.slice(7, 15)} from ${start}`);
    res.writeHead(range === null ? 200 : 206, { 'content-length': String(blob.bytes.length - start) });
    if (digest === fixture.layerDigest && !cutDone) {
      cutDone = true;
      // Half the layer, then the connection dies.
      res.write(blob.bytes.subarray(start, Math.floor(blob.bytes.length / 2)), () => res.destroy());
      return;
    }
    res.end(blob.bytes.subarray(start));
  });
  const cdnHost = await listen(cdn);
  let flaky = true;
  const registry = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      const expected = options.password === undefined ? undefined : `Basic ${Buffer.from(`deploy:${options.password}`).toString('base64')}`;
      log.requests.push(`token scope=${url.searchParams.get('scope') ?? ''} service=${url.searchParams.get('service') ?? ''}`);
      if (expected !== undefined && req.headers.authorization !== expected) return void res.writeHead(401).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'tok123' }));
    }
    if (req.headers.authorization !== 'Bearer tok123') {
      log.requests.push(`401 ${url.pathname}`);
      const realm = `http://${(registry.address() as AddressInfo).address}:${(registry.address() as AddressInfo).port}/token`;
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="test-registry",scope="repository:team/app:pull"` }).end();
    }
    const manifest = /^\/v2\/team\/app\/manifests\/(.+)$/.exec(url.pathname);
    if (manifest !== null) {
      if (flaky) {
        flaky = false;
        log.requests.push('503');
        return void res.writeHead(503).end();
      }
      const selector = decodeURIComponent(manifest[1] ?? '');
      const digest = fixture.tags.get(selector) ?? selector;
      const blob = fixture.blobs.get(digest);
      log.requests.push(`manifest ${selector.slice(0, 15)} accept=${String((req.headers.accept ?? '').includes(MEDIA_TYPES.ociIndex))}`);
      if (blob === undefined) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': blob.mediaType, 'docker-content-digest': digest }).end(blob.bytes);
    }
    const blob = /^\/v2\/team\/app\/blobs\/(.+)$/.exec(url.pathname);
    if (blob !== null) return void res.writeHead(307, { location: `http://${cdnHost}/cdn/${blob[1] ?? ''}` }).end();
    res.writeHead(404).end();
  });
  const host = await listen(registry);
  t.teardown(() => {
    registry.close();
    cdn.close();
    registry.closeAllConnections();
    cdn.closeAllConnections();
  });
  return { host, log };
}

void t.test('pulls with token auth, retries, resume, and no credentials on the CDN', async (t) => {
  const fixture = await buildImage();
  const { host, log } = await startRegistry(t, fixture, { password: 's3cret' });
  const settings = (registry: string): RegistrySettings | undefined => (registry === host ? { insecure: true, credentials: { username: 'deploy', password: 's3cret' } } : undefined);
  const client = createRegistryClient({ settings, sleep: () => Promise.resolve() });
  const base = t.testdir({});
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  const reference = parseReference(`${host}/team/app:1.0`);

  const image = await pullImage(reference, client, store);
  t.equal(image.manifest.digest, fixture.manifestDigest);
  t.same(image.indexDigests, [fixture.indexDigest]);
  t.same((await store.list()).sort(), [...fixture.blobs.keys()].sort(), 'index, manifest, config and layer stored');
  t.same(log.cdnAuthHeaders.filter((h) => h !== undefined), [], 'the Bearer token never went to the CDN origin');
  t.ok(log.requests.includes('503'), 'a 503 was retried');
  t.ok(log.requests.some((r) => r.startsWith('token scope=repository:team/app:pull service=test-registry')));
  const layerFetches = log.requests.filter((r) => r.startsWith(`cdn ${fixture.layerDigest.slice(7, 15)}`));
  t.equal(layerFetches.length, 2, 'the cut download was resumed once');
  t.match(layerFetches[1], /from [1-9]\d*$/, 'with a Range request from where it stopped');

  const unpacked = await unpackImage(store, nodePath.join(base, 'layers'), image);
  t.equal(unpacked.unpacked.length, 1);
  t.comment(log.requests.join('\n'));
});

void t.test('auth and lookup failures are typed', async (t) => {
  const fixture = await buildImage();
  const { host } = await startRegistry(t, fixture, { password: 's3cret' });
  const store = createBlobStore(nodePath.join(t.testdir({}), 'blobs'));
  const noCredentials = createRegistryClient({ settings: () => ({ insecure: true }), sleep: () => Promise.resolve() });
  await t.rejects(pullImage(parseReference(`${host}/team/app:1.0`), noCredentials, store), { code: errorCode('RUNTIME_REGISTRY_AUTH'), message: /token server .* answered 401 \(no credentials configured\)/ });
  const wrong = createRegistryClient({ settings: () => ({ insecure: true, credentials: { username: 'deploy', password: 'nope' } }), sleep: () => Promise.resolve() });
  await t.rejects(pullImage(parseReference(`${host}/team/app:1.0`), wrong, store), { code: errorCode('RUNTIME_REGISTRY_AUTH') });
  const good = createRegistryClient({ settings: () => ({ insecure: true, credentials: { username: 'deploy', password: 's3cret' } }), sleep: () => Promise.resolve() });
  await t.rejects(pullImage(parseReference(`${host}/team/app:2.0`), good, store), { code: errorCode('RUNTIME_REGISTRY_NOT_FOUND'), message: /manifests\/2\.0 not found/ });
  const unreachable = createRegistryClient({ settings: () => ({ insecure: true }), retries: 1, sleep: () => Promise.resolve() });
  await t.rejects(unreachable.getManifest(parseReference('127.0.0.1:1/x:1')), { code: errorCode('RUNTIME_REGISTRY_UNREACHABLE') });
});

void t.test('a manifest that does not match its digest is refused', async (t) => {
  const fixture = await buildImage();
  const { host } = await startRegistry(t, fixture);
  // Serve the index bytes under the manifest's digest.
  const index = fixture.blobs.get(fixture.indexDigest);
  if (index !== undefined) fixture.blobs.set(fixture.manifestDigest, index);
  const client = createRegistryClient({ settings: () => ({ insecure: true }), sleep: () => Promise.resolve() });
  const store = createBlobStore(nodePath.join(t.testdir({}), 'blobs'));
  await t.rejects(pullImage(parseReference(`${host}/team/app:1.0`), client, store), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH'), message: /manifest hashes to/ });
});

void t.test('pull progress: each blob from 0 to its size, never backwards, held blobs reported as exists', async (t) => {
  const fixture = await buildImage();
  const { host } = await startRegistry(t, fixture, { password: 's3cret' });
  const settings = (registry: string): RegistrySettings | undefined => (registry === host ? { insecure: true, credentials: { username: 'deploy', password: 's3cret' } } : undefined);
  const client = createRegistryClient({ settings, sleep: () => Promise.resolve() });
  const store = createBlobStore(nodePath.join(t.testdir({}), 'blobs'));
  const reference = parseReference(`${host}/team/app:1.0`);
  const events: PullProgress[] = [];
  await pullImage(reference, client, store, { onProgress: (p) => events.push(p) });
  const layer = events.filter((e) => e.digest === fixture.layerDigest);
  t.match(layer[0], { kind: 'layer', doneBytes: 0, status: 'downloading' }, 'a layer starts at 0');
  t.match(layer.at(-1), { status: 'done' }, 'and ends done');
  t.equal(layer.at(-1)?.doneBytes, layer.at(-1)?.totalBytes, 'with every byte');
  const done = layer.map((e) => e.doneBytes);
  t.same(done, [...done].sort((a, b) => a - b), 'never going backwards');
  t.ok(events.some((e) => e.kind === 'config' && e.status === 'done'), 'the config too');
  const again: PullProgress[] = [];
  await pullImage(reference, client, store, { onProgress: (p) => again.push(p) });
  t.ok(again.length > 0 && again.every((e) => e.status === 'exists' && e.doneBytes === e.totalBytes), 'a second pull finds every blob held');
});
