// The registry client against a fake registry (an injected fetch, so https: URLs need no TLS
// server): digests are checked with their own algorithm (sha256, sha512) and others refused;
// the token realm must be https: unless the registry is insecure; HTTPS → HTTP redirects are
// refused for manifests, blobs and token requests, and credentials never leave their origin.
import { createHash } from 'node:crypto';
import * as nodePath from 'node:path';
import t from 'tap';
import { MEDIA_TYPES } from '../../src/core/manifest.ts';
import { parseReference } from '../../src/core/reference.ts';
import { redirectProblem, tokenRealmProblem } from '../../src/core/registry.ts';
import { createBlobStore } from '../../src/store/blobs.ts';
import { createRegistryClient, pullImage, type RegistrySettings } from '../../src/store/registry-client.ts';
import { errorCode } from '../../../lib/errors.ts';

type Algorithm = 'sha256' | 'sha512';
const digestOf = (data: Buffer, algorithm: Algorithm): string => `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const CREDENTIALS = { username: 'deploy', password: 's3cret' };
const BASIC = `Basic ${Buffer.from('deploy:s3cret').toString('base64')}`;

interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
}

/** An image whose manifests and blobs use `algorithm` for their digests, behind an index. */
function buildImage(algorithm: Algorithm) {
  const blobs = new Map<string, { bytes: Buffer; mediaType: string }>();
  const add = (bytes: Buffer, mediaType: string): Descriptor => {
    const digest = digestOf(bytes, algorithm);
    blobs.set(digest, { bytes, mediaType });
    return { digest, size: bytes.length, mediaType };
  };
  const layerBytes = Buffer.from('not unpacked by these tests');
  const layer = add(layerBytes, 'application/vnd.oci.image.layer.v1.tar');
  const config = add(json({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: [digestOf(layerBytes, 'sha256')] } }), MEDIA_TYPES.ociConfig);
  const manifest = add(json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layer] }), MEDIA_TYPES.ociManifest);
  const index = add(json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ ...manifest, platform: { os: 'linux', architecture: 'amd64' } }] }), MEDIA_TYPES.ociIndex);
  return { blobs, tags: new Map([['1.0', index.digest]]), layer, config, manifest, index };
}

type Image = ReturnType<typeof buildImage>;

interface Request {
  url: string;
  authorization: string | undefined;
}

interface FakeOptions {
  /** Where the Bearer challenge sends clients for a token. */
  realm?: string;
  /** Redirects blob requests to this base (`<base>/<digest>`), served by the same fake. */
  blobRedirect?: string;
  /** Redirects manifest requests to this base. */
  manifestRedirect?: string;
  /** Redirects token requests to this URL. */
  tokenRedirect?: string;
  /** Extra headers on manifest responses. */
  manifestHeaders?: Record<string, string>;
}

/** A registry at https://registry.test that wants a Bearer token from `realm`. */
function fakeRegistry(image: Image, options: FakeOptions = {}) {
  const requests: Request[] = [];
  const realm = options.realm ?? 'https://auth.test/token';
  const fetch = (async (input: string | URL | globalThis.Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = new Headers(init?.headers);
    requests.push({ url: url.href, authorization: headers.get('authorization') ?? undefined });
    if (url.href.startsWith(realm.split('?')[0] ?? realm)) {
      if (options.tokenRedirect !== undefined) return new Response(null, { status: 302, headers: { location: options.tokenRedirect } });
      return new Response(JSON.stringify({ token: 'tok123' }), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    const served = /^\/(?:cdn|mirror)\/(.+)$/.exec(url.pathname);
    if (served !== null) {
      const blob = image.blobs.get(decodeURIComponent(served[1] ?? ''));
      return blob === undefined ? new Response(null, { status: 404 }) : new Response(blob.bytes, { status: 200, headers: { 'content-type': blob.mediaType, ...options.manifestHeaders } });
    }
    if (url.host !== 'registry.test') return new Response(null, { status: 404 });
    if (headers.get('authorization') !== 'Bearer tok123') return new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}",service="registry.test"` } });
    const manifest = /^\/v2\/team\/app\/manifests\/(.+)$/.exec(url.pathname);
    if (manifest !== null) {
      const selector = decodeURIComponent(manifest[1] ?? '');
      const digest = image.tags.get(selector) ?? selector;
      if (options.manifestRedirect !== undefined) return new Response(null, { status: 307, headers: { location: `${options.manifestRedirect}/${digest}` } });
      const blob = image.blobs.get(digest);
      if (blob === undefined) return new Response(null, { status: 404 });
      return new Response(blob.bytes, { status: 200, headers: { 'content-type': blob.mediaType, 'docker-content-digest': digest, ...options.manifestHeaders } });
    }
    const blob = /^\/v2\/team\/app\/blobs\/(.+)$/.exec(url.pathname);
    if (blob !== null) {
      if (options.blobRedirect !== undefined) return new Response(null, { status: 307, headers: { location: `${options.blobRedirect}/${blob[1] ?? ''}` } });
      const found = image.blobs.get(decodeURIComponent(blob[1] ?? ''));
      return found === undefined ? new Response(null, { status: 404 }) : new Response(found.bytes, { status: 200 });
    }
    return new Response(null, { status: 404 });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

function client(fetch: typeof globalThis.fetch, settings: RegistrySettings = { credentials: CREDENTIALS }) {
  return createRegistryClient({ fetch, settings: (registry) => (registry === 'registry.test' ? settings : undefined), retries: 0, sleep: () => Promise.resolve() });
}

const storeIn = (dir: string) => createBlobStore(nodePath.join(dir, 'blobs'));

void t.test('an image pinned by @sha512: is pulled when every digest verifies with sha512', async (t) => {
  const image = buildImage('sha512');
  const { fetch } = fakeRegistry(image);
  const store = storeIn(t.testdir());
  const pulled = await pullImage(parseReference(`registry.test/team/app@${image.index.digest}`), client(fetch), store);
  t.equal(pulled.manifest.layers[0]?.digest, image.layer.digest);
  t.equal(pulled.config.digest, image.config.digest);
  t.ok(await store.has(image.layer.digest), 'the sha512 layer is stored, verified');
  t.ok(await store.has(image.config.digest), 'and the sha512 config');
});

void t.test('a registry answering a sha512 pin with other bytes is refused', async (t) => {
  const image = buildImage('sha512');
  const other = buildImage('sha256');
  // The index the pin names is replaced by another image's index (valid JSON, wrong bytes).
  const lie = other.blobs.get(other.index.digest);
  if (lie !== undefined) image.blobs.set(image.index.digest, lie);
  const { fetch } = fakeRegistry(image);
  await t.rejects(pullImage(parseReference(`registry.test/team/app@${image.index.digest}`), client(fetch), storeIn(t.testdir())), {
    code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH'),
    message: /manifest hashes to sha512:.*expected sha512:/,
  });
});

void t.test('an index entry naming a sha512 child is checked with sha512', async (t) => {
  const image = buildImage('sha512');
  const lie = image.blobs.get(image.index.digest);
  if (lie !== undefined) image.blobs.set(image.manifest.digest, lie);
  // Tag pull: the index is fetched by tag (its header agrees), the child by its sha512 digest.
  const { fetch } = fakeRegistry(image);
  await t.rejects(pullImage(parseReference('registry.test/team/app:1.0'), client(fetch), storeIn(t.testdir())), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH'), message: /expected sha512:/ });
});

void t.test('a sha512 layer whose bytes do not match is refused by the store', async (t) => {
  const image = buildImage('sha512');
  const layer = image.blobs.get(image.layer.digest);
  if (layer !== undefined) layer.bytes = Buffer.from(layer.bytes.toString().toUpperCase());
  const { fetch } = fakeRegistry(image);
  await t.rejects(pullImage(parseReference('registry.test/team/app:1.0'), client(fetch), storeIn(t.testdir())), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH'), message: /content hashes to sha512:/ });
});

void t.test('a digest berth cannot verify is refused, saying so', async (t) => {
  const image = buildImage('sha256');
  const { fetch } = fakeRegistry(image, { manifestHeaders: { 'docker-content-digest': `sha384:${'ab'.repeat(48)}` } });
  await t.rejects(client(fetch).getManifest(parseReference('registry.test/team/app:1.0')), {
    code: errorCode('RUNTIME_DIGEST_UNSUPPORTED'),
    message: /digest 'sha384:.*' cannot be verified: unsupported algorithm 'sha384' \(expected sha256 or sha512\)/,
  });
  t.throws(() => parseReference(`registry.test/team/app@sha384:${'ab'.repeat(48)}`), /unsupported algorithm 'sha384'/, 'a pin with such a digest is refused when parsed');
});

void t.test('a plain-HTTP token realm gets no credentials unless the registry is insecure', async (t) => {
  const image = buildImage('sha256');
  const refused = fakeRegistry(image, { realm: 'http://auth.test/token' });
  await t.rejects(pullImage(parseReference('registry.test/team/app:1.0'), client(refused.fetch), storeIn(t.testdir())), {
    code: errorCode('RUNTIME_REGISTRY_INSECURE'),
    message: /token realm http:\/\/auth\.test is plain HTTP .*insecure: true under registries:/,
  });
  t.notOk(refused.requests.some((r) => r.url.startsWith('http://auth.test')), 'no request went to the HTTP realm');

  const allowed = fakeRegistry(image, { realm: 'http://auth.test/token' });
  await pullImage(parseReference('registry.test/team/app:1.0'), client(allowed.fetch, { insecure: true, credentials: CREDENTIALS }), storeIn(t.testdir()));
  t.ok(allowed.requests.some((r) => r.url.startsWith('http://auth.test/token') && r.authorization === BASIC), 'an insecure registry may use an HTTP realm');

  const https = fakeRegistry(image);
  await pullImage(parseReference('registry.test/team/app:1.0'), client(https.fetch), storeIn(t.testdir()));
  t.same(
    https.requests.filter((r) => r.authorization === BASIC).map((r) => new URL(r.url).origin),
    ['https://auth.test'],
    'the credentials went to the https realm only',
  );
});

void t.test('HTTPS → HTTP redirects are refused for manifests, blobs and token requests', async (t) => {
  const image = buildImage('sha256');
  const cases: Array<[string, FakeOptions]> = [
    ['manifest', { manifestRedirect: 'http://mirror.test/mirror' }],
    ['blob', { blobRedirect: 'http://cdn.test/cdn' }],
    ['token', { tokenRedirect: 'http://auth.test/plain-token' }],
  ];
  for (const [what, options] of cases) {
    const fake = fakeRegistry(image, options);
    await t.rejects(pullImage(parseReference('registry.test/team/app:1.0'), client(fake.fetch), storeIn(t.testdir())), { code: errorCode('RUNTIME_REGISTRY_INSECURE'), message: /HTTPS → HTTP is never followed/ }, `${what} redirect`);
    t.notOk(fake.requests.some((r) => r.url.startsWith('http:')), `no ${what} request went over HTTP`);
  }
  const https = fakeRegistry(image, { blobRedirect: 'https://cdn.test/cdn', tokenRedirect: 'https://auth2.test/token' });
  await t.rejects(pullImage(parseReference('registry.test/team/app:1.0'), client(https.fetch), storeIn(t.testdir())), { code: errorCode('RUNTIME_REGISTRY_AUTH') }, 'the redirected token request has no token to give');
  t.same(https.requests.filter((r) => r.url.startsWith('https://auth2.test')).map((r) => r.authorization), [undefined], 'credentials do not follow a token redirect to another origin');
});

void t.test('the pure checks', async (t) => {
  t.equal(tokenRealmProblem('https://auth.test/token', false), undefined);
  t.equal(tokenRealmProblem('http://auth.test/token', true), undefined);
  t.match(tokenRealmProblem('http://auth.test/token', false), /plain HTTP/);
  t.equal(redirectProblem('https://a.test/x', 'https://b.test/y'), undefined);
  t.equal(redirectProblem('http://a.test/x', 'http://b.test/y'), undefined, 'an insecure registry stays on HTTP');
  t.match(redirectProblem('https://a.test/x', 'http://a.test/y'), /from https:\/\/a\.test to http:\/\/a\.test/);
});
