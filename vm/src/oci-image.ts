/**
 * Writes OCI image layouts from files, for the test suite and the benchmarks: one gzip layer
 * built from a list of entries (fixed owners and times, so equal inputs give equal bytes), an
 * image config, a manifest and index.json with a ref name. Also the busybox-static image the
 * container VM tests preload. Effects: writes files under the directory it is given.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/** One entry of an image's single layer. */
export interface TarEntry {
  /** Relative path; directories end with '/'. */
  name: string;
  type: 'directory' | 'file' | 'symlink';
  mode: number;
  data?: Buffer;
  linkname?: string;
}

/** A tar archive of `entries` with owner root and mtime 0. */
export async function tarEntries(entries: readonly TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const header = { name: e.name, mode: e.mode, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(0), type: e.type, ...(e.linkname ? { linkname: e.linkname } : {}) };
    await new Promise<void>((resolve, reject) => {
      const callback = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.type === 'file') p.entry({ ...header, size: e.data?.length ?? 0 }, e.data ?? Buffer.alloc(0), callback);
      else p.entry(header, callback);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** The `config` object of an OCI image config (Docker's field names). */
export interface ImageRunConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
}

export interface OciImageSpec {
  entries: readonly TarEntry[];
  config: ImageRunConfig;
  /** org.opencontainers.image.ref.name in index.json, e.g. "latest" or "localhost/app:1". */
  refName?: string;
  /** Recorded in the image history. */
  createdBy?: string;
}

export interface OciImage {
  /** The OCI image layout directory. */
  layoutDir: string;
  /** Its files (relative path and bytes), e.g. to write an oci-archive tar. */
  files: Array<[string, Buffer]>;
  /** The uncompressed layer, for unpacking a plain crun bundle. */
  layer: Buffer;
  manifestDigest: string;
  configDigest: string;
}

/** Writes an OCI image layout with one layer to `layoutDir` (replacing what was there). */
export async function writeOciLayout(layoutDir: string, spec: OciImageSpec): Promise<OciImage> {
  const layer = await tarEntries(spec.entries);
  const layerGz = gzipSync(layer, { level: 9 });
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: spec.config,
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: spec.createdBy ?? 'berth test suite' }],
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(config)}`, size: Buffer.byteLength(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha256(layerGz)}`, size: layerGz.length }],
  });
  const index = JSON.stringify({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha256(manifest)}`,
        size: Buffer.byteLength(manifest),
        ...(spec.refName === undefined ? {} : { annotations: { 'org.opencontainers.image.ref.name': spec.refName } }),
      },
    ],
  });
  const files: Array<[string, Buffer]> = [
    ['oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
    ['index.json', Buffer.from(index)],
    [`blobs/sha256/${sha256(config)}`, Buffer.from(config)],
    [`blobs/sha256/${sha256(manifest)}`, Buffer.from(manifest)],
    [`blobs/sha256/${sha256(layerGz)}`, layerGz],
  ];
  await rm(layoutDir, { recursive: true, force: true });
  await mkdir(path.join(layoutDir, 'blobs/sha256'), { recursive: true });
  for (const [name, data] of files) await writeFile(path.join(layoutDir, name), data);
  return { layoutDir, files, layer, manifestDigest: `sha256:${sha256(manifest)}`, configDigest: `sha256:${sha256(config)}` };
}

/** An oci-archive tar of a written layout (what `podman load -i` and `skopeo copy oci-archive:` read). */
export async function ociArchive(image: OciImage): Promise<Buffer> {
  return tarEntries([
    { name: 'blobs/', type: 'directory', mode: 0o755 },
    { name: 'blobs/sha256/', type: 'directory', mode: 0o755 },
    ...image.files.map(([name, data]): TarEntry => ({ name, type: 'file', mode: 0o644, data })),
  ]);
}

/** Debian's busybox-static on the test machine (package busybox-static). */
export const HOST_BUSYBOX = '/usr/bin/busybox';

/** A root with the usual mount points, busybox and links for `applets`, and root in passwd/group. */
export function busyboxEntries(busybox: Buffer, applets: readonly string[], extra: readonly TarEntry[] = []): TarEntry[] {
  const dirs = ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'run', 'var', 'var/www'].map((name): TarEntry => ({ name: `${name}/`, type: 'directory', mode: name === 'tmp' ? 0o1777 : 0o755 }));
  return [
    ...dirs,
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: busybox },
    ...applets.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' })),
    { name: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n') },
    { name: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    ...extra,
  ];
}

/** Applets the container tests use (an HTTP server, a health probe, shell tools). */
export const TEST_IMAGE_APPLETS = ['sh', 'cat', 'echo', 'true', 'false', 'sleep', 'date', 'ls', 'httpd', 'wget', 'test', 'grep', 'touch', 'rm', 'id', 'ps', 'hostname', 'mkdir', 'env', 'unshare'];

/** The ref name the container tests' image is preloaded under (as `berth-test:latest`). */
export const TEST_IMAGE_TAG = 'latest';

/**
 * The container tests' image: busybox-static with an index page; by default an HTTP server on
 * port 8080 (`httpd -f -p 8080 -h /var/www`). Tests override entrypoint/command per container.
 */
export async function writeTestImage(layoutDir: string, busyboxPath = HOST_BUSYBOX): Promise<OciImage> {
  const busybox = await readFile(busyboxPath);
  const index: TarEntry = { name: 'var/www/index.html', type: 'file', mode: 0o644, data: Buffer.from('hello from berth\n') };
  return writeOciLayout(layoutDir, {
    entries: busyboxEntries(busybox, TEST_IMAGE_APPLETS, [index]),
    config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/httpd', '-f', '-v', '-p', '8080', '-h', '/var/www'], WorkingDir: '/', ExposedPorts: { '8080/tcp': {} } },
    refName: TEST_IMAGE_TAG,
    createdBy: 'berth test suite: busybox-static from Debian',
  });
}
