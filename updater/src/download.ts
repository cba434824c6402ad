/**
 * Downloads a bundle into a staging directory on /var: first the manifest and its
 * signature, verified before anything else is fetched; then each payload, streamed
 * through a size and sha256 check and resumed with an HTTP Range request when a
 * partial file is already there, optionally paced to update.throttle.download_bps (reading
 * no faster, so TCP flow control slows the server; in Range pieces, so the buffers on the way
 * hold at most one). Effects: HTTP GETs to the update server and files in
 * the staging directory.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { writeFileAtomically } from '../../lib/sys/atomic-file.ts';
import { systemClock, type Clock } from '../../lib/sys/clock.ts';
import { assertBundleChannel, BUNDLE_FILES, PAYLOAD_NAMES, type BundleManifest, type PayloadName } from './core/bundle-manifest.ts';
import { pace, pacedPieceBytes, startPacing } from './core/pacing.ts';
import { PayloadCheck } from './payload-check.ts';
import { verifyManifest, type TrustedKey } from './signing.ts';

export interface DownloadOptions {
  /** URL of the bundle's manifest.json (from the channel file). */
  manifestUrl: string;
  /** Staging directory on /var for this bundle. */
  dir: string;
  trustedKeys: readonly TrustedKey[];
  /** The channel this host follows: a manifest signed for another is refused before any payload is fetched. */
  channel: string;
  /** A request fails when no byte arrives for this long (default 60 s). */
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
  onProgress?: (payload: PayloadName, bytes: number, total: number) => void;
  /** update.throttle.download_bps: payload bytes are taken off the socket no faster (core/pacing.ts). */
  downloadBps?: number;
  /** Time for the pacing (default: the real clock). */
  pacingClock?: PacingClock;
}

/** What the pacing needs of time (lib/sys/clock.ts). */
export type PacingClock = Pick<Clock, 'monotonicMs' | 'sleep'>;

/** The body of a response as byte chunks (none for an empty body). */
async function* chunksOf(response: Response): AsyncGenerator<Uint8Array> {
  const body = response.body as ReadableStream<Uint8Array> | null;
  if (body === null) return;
  for await (const chunk of body) yield chunk;
}

/** Manifests and signatures are small; anything bigger is not one. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

function ioError(error: unknown, what: string): BerthError {
  if (error instanceof BerthError) return error;
  if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
    return new BerthError('UPDATER_VAR_FULL', `Cannot store ${what}: /var is full; free space on the data partition`, { cause: error });
  }
  return new BerthError('UPDATER_DOWNLOAD_IO', `Cannot store ${what}`, { cause: error });
}

/** One GET with an idle timeout that restarts with every chunk. */
class Request {
  readonly #controller = new AbortController();
  readonly #idleMs: number;
  #timer: NodeJS.Timeout | undefined;
  #timedOut = false;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  touch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort();
    }, this.#idleMs);
  }

  done(): void {
    clearTimeout(this.#timer);
  }

  failure(error: unknown, url: string): BerthError {
    if (error instanceof BerthError) return error;
    if (this.#timedOut) return new BerthError('UPDATER_TIMEOUT', `Update server ${url} sent nothing for ${this.#idleMs} ms`, { cause: error });
    return new BerthError('UPDATER_SERVER_UNREACHABLE', `Cannot fetch ${url}`, { cause: error });
  }

  async get(doFetch: typeof fetch, url: string, headers: Record<string, string> = {}): Promise<Response> {
    this.touch();
    try {
      return await doFetch(url, { headers, signal: this.#controller.signal, redirect: 'follow' });
    } catch (first) {
      // A kept-alive connection the server closed while the previous body was still being read
      // (a paced download reads it long after the server sent it) fails before any answer: a GET
      // is idempotent, so it is sent once more on a new connection (RFC 9112 9.3.1).
      if (this.#timedOut || this.#controller.signal.aborted) {
        this.done();
        throw this.failure(first, url);
      }
      try {
        return await doFetch(url, { headers, signal: this.#controller.signal, redirect: 'follow' });
      } catch (error) {
        this.done();
        throw this.failure(error, url);
      }
    }
  }
}

/** GETs a small document (at most 1 MiB) with an idle timeout; typed errors as for payloads. */
export async function fetchDocument(doFetch: typeof fetch, url: string, idleMs: number): Promise<Uint8Array> {
  const request = new Request(idleMs);
  const response = await request.get(doFetch, url);
  try {
    if (response.status !== 200) {
      throw new BerthError('UPDATER_HTTP_ERROR', `Update server answered ${response.status} for ${url}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of chunksOf(response)) {
      request.touch();
      size += chunk.byteLength;
      if (size > MAX_DOCUMENT_BYTES) throw new BerthError('UPDATER_MANIFEST_INVALID', `Refusing ${url}: larger than ${MAX_DOCUMENT_BYTES} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (error) {
    throw request.failure(error, url);
  } finally {
    request.done();
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Feeds the first `length` bytes of a local file into `check`. */
async function hashExisting(path: string, length: number, check: PayloadCheck): Promise<void> {
  if (length === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) check.update(chunk as Buffer);
}

async function downloadPayload(options: DownloadOptions, manifest: BundleManifest, name: PayloadName): Promise<void> {
  const entry = manifest.payload[name];
  const label = `${name} of bundle ${manifest.version}`;
  const path = join(options.dir, entry.path);
  const url = new URL(entry.path, options.manifestUrl).href;
  const doFetch = options.fetch ?? fetch;
  const idleMs = options.idleTimeoutMs ?? 60_000;

  let have = (await sizeOf(path)) ?? 0;
  if (have > entry.size) {
    await unlink(path);
    have = 0;
  }
  let check = new PayloadCheck(label, entry);
  await hashExisting(path, have, check);
  if (have === entry.size) {
    try {
      check.finish();
      return; // already complete and correct
    } catch {
      await unlink(path);
      have = 0;
      check = new PayloadCheck(label, entry);
    }
  }

  const bps = options.downloadBps !== undefined && options.downloadBps > 0 ? options.downloadBps : undefined;
  // Paced, the payload comes in pieces, so the buffers on the way never hold more than one.
  const piece = bps === undefined ? undefined : pacedPieceBytes(bps);
  const clock = options.pacingClock ?? systemClock;
  // One schedule for every piece of this attempt: a resumed download is paced from its first new byte.
  let schedule = startPacing(clock.monotonicMs());
  // Opened at the first answer, so a server that never answers leaves no file behind.
  let handle: FileHandle | undefined;
  const openFile = (flags: 'a' | 'w'): Promise<FileHandle> =>
    open(path, flags, 0o600).catch((error: unknown) => {
      throw ioError(error, label);
    });
  try {
    // An empty payload needs no request, only its (empty) file.
    if (entry.size === 0) handle = await openFile('w');
    while (have < entry.size) {
      const last = piece === undefined ? undefined : Math.min(entry.size, have + piece) - 1;
      const asked = last !== undefined ? `bytes=${have}-${last}` : have > 0 ? `bytes=${have}-` : undefined;
      const request = new Request(idleMs);
      try {
        const response = await request.get(doFetch, url, asked === undefined ? {} : { range: asked });
        let wholeBody = false;
        if (response.status === 206 && asked !== undefined) {
          const range = /^bytes (\d+)-(\d+)\//.exec(response.headers.get('content-range') ?? '');
          if (Number(range?.[1]) !== have || (last !== undefined && Number(range?.[2]) > last)) {
            throw new BerthError('UPDATER_HTTP_ERROR', `Update server sent the wrong range for ${url}: asked ${asked}, got ${response.headers.get('content-range') ?? 'none'}`);
          }
        } else if (response.status === 200) {
          // No partial file, or the server ignores Range: the whole payload, from its first byte.
          wholeBody = true;
          if (have > 0) {
            await handle?.truncate(0);
            have = 0;
            check = new PayloadCheck(label, entry);
          }
        } else {
          throw new BerthError('UPDATER_HTTP_ERROR', `Update server answered ${response.status} for ${url}${asked === undefined ? '' : ` (Range ${asked})`}`);
        }
        handle ??= await openFile(have > 0 ? 'a' : 'w');
        const file = handle;
        const before = have;
        for await (const chunk of chunksOf(response)) {
          request.touch();
          check.update(chunk);
          await file.write(chunk).catch((error: unknown) => {
            throw ioError(error, label);
          });
          have += chunk.byteLength;
          options.onProgress?.(name, have, entry.size);
          if (bps !== undefined) {
            const step = pace(schedule, chunk.byteLength, clock.monotonicMs(), bps);
            schedule = step.schedule;
            if (step.delayMs > 0) {
              await clock.sleep(step.delayMs);
              // The wait is ours, not the server's: it does not count towards the idle timeout.
              request.touch();
            }
          }
        }
        // A whole body is all there is (its size is checked below); an empty piece would loop forever.
        if (wholeBody) break;
        if (have === before) throw new BerthError('UPDATER_HTTP_ERROR', `Update server sent an empty body for ${url} (Range ${asked ?? 'none'})`);
      } catch (error) {
        const failure = request.failure(error, url);
        if (failure.code === 'UPDATER_SERVER_UNREACHABLE' && (await sizeOf(path)) !== undefined) {
          // The connection broke mid-body: keep what arrived, the next attempt resumes.
          throw new BerthError('UPDATER_PAYLOAD_TRUNCATED', `Download of ${label} was cut short; it resumes on the next attempt`, { cause: error });
        }
        // Bytes that cannot be right are never resumed from.
        if (failure.code === 'UPDATER_PAYLOAD_TOO_LARGE') await unlink(path).catch(() => undefined);
        throw failure;
      } finally {
        request.done();
      }
    }
    await handle?.sync();
  } finally {
    await handle?.close();
  }
  try {
    check.finish();
  } catch (error) {
    if (error instanceof BerthError && error.code === 'UPDATER_HASH_MISMATCH') await unlink(path).catch(() => undefined);
    throw error;
  }
}

/**
 * Downloads and checks a whole bundle; returns its verified manifest. Error codes:
 * UPDATER_SIGNATURE_INVALID / _WRONG_KEY / UPDATER_MANIFEST_INVALID / UPDATER_WRONG_CHANNEL
 * (nothing else is fetched or stored), UPDATER_HTTP_ERROR, UPDATER_SERVER_UNREACHABLE, UPDATER_TIMEOUT,
 * UPDATER_PAYLOAD_TRUNCATED (partial file kept for resuming), UPDATER_PAYLOAD_TOO_LARGE
 * and UPDATER_HASH_MISMATCH (file removed), UPDATER_VAR_FULL.
 */
export async function downloadBundle(options: DownloadOptions): Promise<BundleManifest> {
  const doFetch = options.fetch ?? fetch;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const manifestBytes = await fetchDocument(doFetch, options.manifestUrl, idleMs);
  const signatureBytes = await fetchDocument(doFetch, new URL(BUNDLE_FILES.signature, options.manifestUrl).href, idleMs);
  const manifest = verifyManifest(manifestBytes, signatureBytes, options.trustedKeys, `bundle manifest ${options.manifestUrl}`);
  assertBundleChannel(manifest, options.channel);
  try {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomically(join(options.dir, BUNDLE_FILES.signature), signatureBytes);
    await writeFileAtomically(join(options.dir, BUNDLE_FILES.manifest), manifestBytes);
  } catch (error) {
    throw ioError(error, `the manifest of bundle ${manifest.version}`);
  }
  for (const name of PAYLOAD_NAMES) await downloadPayload(options, manifest, name);
  return manifest;
}
