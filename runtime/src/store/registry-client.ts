/**
 * Pulling images from an OCI Distribution registry: anonymous and Bearer-token auth (with
 * optional Basic credentials for the token server or the registry), retries with backoff,
 * downloads resumed with Range requests, manifests verified against their digest (sha256 or
 * sha512, each with its own algorithm) and blobs verified by the blob store. Credentials go only
 * to the registry and its token realm (https: unless the registry is configured insecure), never
 * across a redirect to another origin (blob storage CDNs); an HTTPS → HTTP redirect is refused.
 * Effects: HTTP(S) through the injected fetch, writes through the blob store.
 */
import { BerthError, type RuntimeErrorCode } from '../../../lib/errors.ts';
import { digestOf, digestProblem, parseDigest, shortDigest, type DigestAlgorithm } from '../core/digest.ts';
import {
  DEFAULT_PLATFORM,
  MANIFEST_ACCEPT,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  assertImageConsistent,
  parseImageConfig,
  parseManifest,
  selectPlatformManifest,
  type Platform,
} from '../core/manifest.ts';
import { formatReference, manifestSelector, type ImageReference } from '../core/reference.ts';
import {
  blobUrl,
  manifestUrl,
  parseWwwAuthenticate,
  pullScope,
  redirectProblem,
  registryBaseUrl,
  REGISTRY_RETRY,
  tokenFromResponse,
  tokenRealmProblem,
  tokenRequestUrl,
} from '../core/registry.ts';
import type { BlobStore } from './blobs.ts';
import type { ImportedImage } from './image-layout.ts';
import { backoffDelayMs, isRetryableStatus } from '../../../lib/retry.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Per-registry settings from the machine config (`registries:`). */
export interface RegistrySettings {
  /** Plain HTTP; only where the config says so. */
  insecure?: boolean;
  credentials?: RegistryCredentials;
}

export interface RegistryClientOptions {
  fetch?: typeof fetch;
  settings?: (registry: string) => RegistrySettings | undefined;
  /** Attempts per request beyond the first. Default 4. */
  retries?: number;
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string | undefined;
  digest: string;
}

export interface RegistryClient {
  getManifest(reference: ImageReference, selector?: string): Promise<FetchedManifest>;
  /** The blob's bytes from `offset` (a Range request; servers ignoring Range are handled). */
  openBlob(reference: ImageReference, digest: string, offset: number): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
}

const MAX_REDIRECTS = 5;

function registryError(code: RuntimeErrorCode, reference: ImageReference, why: string, cause?: unknown): BerthError {
  return new BerthError(code, `Cannot pull ${formatReference(reference)}: ${why}`, cause === undefined ? undefined : { cause });
}

async function readLimited(response: Response, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  if (response.body === null) return Buffer.alloc(0);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    length += chunk.length;
    if (length > maxBytes) throw new Error(`response larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const doFetch = options.fetch ?? fetch;
  const retries = options.retries ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const userAgent = options.userAgent ?? 'berth';
  /** Authorization header values per registry and scope, reused until a 401 says otherwise. */
  const authCache = new Map<string, string>();

  const settingsOf = (registry: string): RegistrySettings => options.settings?.(registry) ?? {};
  const basicOf = (credentials: RegistryCredentials): string => `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

  async function authenticate(reference: ImageReference, response: Response): Promise<string> {
    const header = response.headers.get('www-authenticate') ?? '';
    const challenges = parseWwwAuthenticate(header);
    const credentials = settingsOf(reference.registry).credentials;
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer !== undefined) {
      const url = tokenRequestUrl(bearer, pullScope(reference));
      if (url === undefined) throw registryError('RUNTIME_REGISTRY_AUTH', reference, `unusable Bearer challenge "${header}"`);
      const realmProblem = tokenRealmProblem(url, settingsOf(reference.registry).insecure === true);
      if (realmProblem !== undefined) throw registryError('RUNTIME_REGISTRY_INSECURE', reference, realmProblem);
      // The credentials go to the realm's own origin only, never along a redirect elsewhere.
      const tokenResponse = await follow(reference, url, { 'user-agent': userAgent }, credentials === undefined ? undefined : basicOf(credentials));
      if (!tokenResponse.ok) {
        await discard(tokenResponse);
        throw registryError('RUNTIME_REGISTRY_AUTH', reference, `token server ${new URL(url).origin} answered ${tokenResponse.status}${credentials === undefined ? ' (no credentials configured)' : ''}`);
      }
      let body: unknown;
      try {
        body = JSON.parse((await readLimited(tokenResponse, 1024 * 1024)).toString('utf8'));
      } catch (error) {
        throw registryError('RUNTIME_REGISTRY_AUTH', reference, 'token server sent no JSON', error);
      }
      const token = tokenFromResponse(body);
      if (token === undefined) throw registryError('RUNTIME_REGISTRY_AUTH', reference, 'token server response has no token');
      return `Bearer ${token}`;
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) {
      if (credentials === undefined) throw registryError('RUNTIME_REGISTRY_AUTH', reference, 'the registry wants a username and password; set them under registries: in the machine config');
      return basicOf(credentials);
    }
    throw registryError('RUNTIME_REGISTRY_AUTH', reference, `401 without a usable challenge ("${header}")`);
  }

  /**
   * One GET and its redirects (at most MAX_REDIRECTS), each followed by hand: `authorization`
   * goes only to the origin of `url`, and an HTTPS → HTTP hop is refused (RUNTIME_REGISTRY_INSECURE).
   */
  async function follow(reference: ImageReference, url: string, headers: Record<string, string>, authorization: string | undefined): Promise<Response> {
    const origin = new URL(url).origin;
    let target = url;
    for (let hop = 0; ; hop += 1) {
      const requestHeaders: Record<string, string> = { ...headers };
      if (authorization !== undefined && new URL(target).origin === origin) requestHeaders.authorization = authorization;
      const response = await doFetch(target, { headers: requestHeaders, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      await discard(response);
      if (hop >= MAX_REDIRECTS) throw registryError('RUNTIME_REGISTRY_FAILED', reference, `more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, target).toString();
      const problem = redirectProblem(target, next);
      if (problem !== undefined) throw registryError('RUNTIME_REGISTRY_INSECURE', reference, problem);
      target = next;
    }
  }

  /**
   * GET with auth, retries and origin-aware redirects. Returns a response with a 2xx status;
   * anything else becomes a typed error.
   */
  async function get(reference: ImageReference, url: string, headers: Record<string, string>): Promise<Response> {
    const cacheKey = `${reference.registry}|${pullScope(reference)}`;
    let authRetried = false;
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await follow(reference, url, { 'user-agent': userAgent, ...headers }, authCache.get(cacheKey));
      } catch (error) {
        if (error instanceof BerthError) throw error;
        if (attempt >= retries) throw registryError('RUNTIME_REGISTRY_UNREACHABLE', reference, `${new URL(url).host}: ${error instanceof Error ? error.message : String(error)}`, error);
        await sleep(backoffDelayMs(REGISTRY_RETRY, attempt));
        continue;
      }
      if (response.status === 401 && !authRetried) {
        authRetried = true;
        await discard(response);
        authCache.set(cacheKey, await authenticate(reference, response));
        attempt -= 1; // an auth round trip is not a failed attempt
        continue;
      }
      if (response.ok) return response;
      await discard(response);
      if (response.status === 401 || response.status === 403) throw registryError('RUNTIME_REGISTRY_AUTH', reference, `access denied (${response.status})`);
      if (response.status === 404) throw registryError('RUNTIME_REGISTRY_NOT_FOUND', reference, `${new URL(url).pathname} not found`);
      if (!isRetryableStatus(response.status) || attempt >= retries) {
        throw registryError('RUNTIME_REGISTRY_FAILED', reference, `${new URL(url).pathname} answered ${response.status}`);
      }
      await sleep(backoffDelayMs(REGISTRY_RETRY, attempt));
    }
  }

  return {
    async getManifest(reference, selector = manifestSelector(reference)) {
      const base = registryBaseUrl(reference.registry, settingsOf(reference.registry).insecure === true);
      const response = await get(reference, manifestUrl(base, reference.repository, selector), { accept: MANIFEST_ACCEPT.join(', ') });
      let bytes: Buffer;
      try {
        bytes = await readLimited(response, MAX_MANIFEST_BYTES);
      } catch (error) {
        throw registryError('RUNTIME_MANIFEST_INVALID', reference, `manifest: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      // The store keeps manifests under their sha256.
      const digest = digestOf(bytes, 'sha256');
      // By digest: the bytes must hash to it. By tag: a Docker-Content-Digest header must agree.
      // Either is checked with its own algorithm; one berth cannot verify is refused, never skipped.
      const claimed = selector.includes(':') ? selector : (response.headers.get('docker-content-digest') ?? undefined);
      if (claimed !== undefined) {
        const problem = digestProblem(claimed);
        if (problem !== undefined) throw registryError('RUNTIME_DIGEST_UNSUPPORTED', reference, `the manifest's digest '${claimed}' cannot be verified: ${problem}`);
        const actual = digestOf(bytes, parseDigest(claimed).algorithm as DigestAlgorithm);
        if (actual !== claimed) throw registryError('RUNTIME_BLOB_DIGEST_MISMATCH', reference, `manifest hashes to ${shortDigest(actual)}, expected ${shortDigest(claimed)}`);
      }
      return { bytes, mediaType: response.headers.get('content-type') ?? undefined, digest };
    },

    async openBlob(reference, digest, offset) {
      const base = registryBaseUrl(reference.registry, settingsOf(reference.registry).insecure === true);
      const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
      const response = await get(reference, blobUrl(base, reference.repository, digest), headers);
      if (response.body === null) return [];
      const body = response.body as unknown as AsyncIterable<Uint8Array>;
      // A server that ignores Range sends everything again: skip what we already have.
      if (offset === 0 || response.status === 206) return body;
      return (async function* skip(): AsyncIterable<Uint8Array> {
        let toSkip = offset;
        for await (const chunk of body) {
          if (toSkip >= chunk.length) {
            toSkip -= chunk.length;
            continue;
          }
          yield chunk.subarray(toSkip);
          toSkip = 0;
        }
      })();
    },
  };
}

/** How far one blob of a pull has come (the config, then each layer). */
export interface PullProgress {
  digest: string;
  kind: 'config' | 'layer';
  doneBytes: number;
  totalBytes: number;
  /** `exists`: already in the store, nothing fetched. */
  status: 'downloading' | 'done' | 'exists';
}

/** Bytes between two `downloading` progress reports of one blob. */
export const PROGRESS_STEP_BYTES = 512 * 1024;

export interface PullOptions {
  platform?: Platform;
  /** Attempts per blob (each resumes where the last stopped). Default 5. */
  blobAttempts?: number;
  /** Told how each blob's download goes: at its start, every PROGRESS_STEP_BYTES, and when it is stored. */
  onProgress?: (progress: PullProgress) => void;
  /** Called with the manifest and config before any layer is fetched; throwing refuses the pull (the disk reserve). */
  beforeLayers?: (image: ImportedImage) => Promise<void>;
  /** A second reader of layer `index`'s bytes as they arrive (LayerTap); undefined: none for that layer. */
  tapLayer?: (image: ImportedImage, index: number) => Promise<LayerTap | undefined>;
}

/** Reads a layer while the pull fetches it (the unpacker, through a BlobTee). */
export interface LayerTap {
  /** Wraps the chunks of each fetch attempt (from byte `offset`), passing them on unchanged. */
  relay(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, offset: number): AsyncIterable<Uint8Array>;
  /**
   * Told how the layer's fetch and store ended (every attempt); the pull waits for what this
   * returns before the next layer. Never rejects: a reader's failure is its own.
   */
  settle(stored: Promise<unknown>): Promise<void>;
}

/** Passes a blob's chunks through, reporting the bytes done so far (from `offset`) every PROGRESS_STEP_BYTES. */
async function* countingChunks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, offset: number, report: (doneBytes: number) => void): AsyncIterable<Uint8Array> {
  let done = offset;
  let reported = offset;
  for await (const chunk of chunks) {
    done += chunk.length;
    if (done - reported >= PROGRESS_STEP_BYTES) {
      reported = done;
      report(done);
    }
    yield chunk;
  }
}

/**
 * Pulls `reference` into the blob store: the index (if any) and the platform's manifest,
 * its config and its layers, each verified. Returns the image and the digests to keep.
 */
export async function pullImage(reference: ImageReference, client: RegistryClient, blobStore: BlobStore, options: PullOptions = {}): Promise<ImportedImage & { indexDigests: string[] }> {
  const platform = options.platform ?? DEFAULT_PLATFORM;
  const attempts = options.blobAttempts ?? 5;
  const indexDigests: string[] = [];

  const putBlob = async (descriptor: { digest: string; size: number }, kind: PullProgress['kind'], tap?: LayerTap): Promise<void> => {
    const progress = options.onProgress;
    const tell = (doneBytes: number, status: PullProgress['status']): void => progress?.({ digest: descriptor.digest, kind, doneBytes, totalBytes: descriptor.size, status });
    const fetchAndStore = async (): Promise<void> => {
      if (progress !== undefined && (await blobStore.has(descriptor.digest))) {
        tell(descriptor.size, 'exists');
        return;
      }
      tell(0, 'downloading');
      for (let attempt = 1; ; attempt += 1) {
        try {
          await blobStore.put(descriptor, async (offset) => {
            const fetched = await client.openBlob(reference, descriptor.digest, offset);
            const chunks = tap === undefined ? fetched : tap.relay(fetched, offset);
            return progress === undefined ? chunks : countingChunks(chunks, offset, (done) => tell(done, 'downloading'));
          });
          tell(descriptor.size, 'done');
          return;
        } catch (error) {
          const retryable = error instanceof BerthError ? error.code === 'RUNTIME_BLOB_INCOMPLETE' || error.code === 'RUNTIME_REGISTRY_UNREACHABLE' : true;
          if (!retryable || attempt >= attempts) throw error;
        }
      }
    };
    const stored = fetchAndStore();
    // Handled here too: a failed store must not be an unhandled rejection while the tap settles.
    stored.catch(() => undefined);
    if (tap !== undefined) await tap.settle(stored);
    await stored;
  };
  const putDocument = async (digest: string, bytes: Buffer): Promise<void> => {
    await blobStore.put({ digest, size: bytes.length }, (offset) => [bytes.subarray(offset)]);
  };

  let fetched = await client.getManifest(reference);
  for (let depth = 0; ; depth += 1) {
    const document = parseManifest(fetched.bytes, { digest: fetched.digest, ...(fetched.mediaType === undefined ? {} : { contentType: fetched.mediaType }) });
    await putDocument(fetched.digest, fetched.bytes);
    if (document.kind === 'index') {
      if (depth >= 3) throw registryError('RUNTIME_MANIFEST_INVALID', reference, 'indexes nested too deep');
      indexDigests.push(fetched.digest);
      const chosen = selectPlatformManifest(document, platform);
      fetched = await client.getManifest(reference, chosen.digest);
      continue;
    }
    if (document.config.size > MAX_CONFIG_BYTES) throw registryError('RUNTIME_IMAGE_CONFIG_INVALID', reference, `config of ${document.config.size} bytes is too large`);
    await putBlob(document.config, 'config');
    const config = parseImageConfig(await blobStore.read(document.config.digest, MAX_CONFIG_BYTES), { digest: document.config.digest });
    assertImageConsistent(document, config, platform);
    await options.beforeLayers?.({ manifest: document, config });
    for (const [index, layer] of document.layers.entries()) await putBlob(layer, 'layer', await options.tapLayer?.({ manifest: document, config }, index));
    return { manifest: document, config, indexDigests };
  }
}
