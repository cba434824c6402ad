/**
 * A small OCI image layout for tests: two layers (gzip and zstd, the second with a whiteout),
 * a config, the amd64 manifest and an arm64 one in a nested index named "web:1". Test-only.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { MEDIA_TYPES } from '../../src/core/manifest.ts';
import { gzip, packTar, zstd } from './tar-fixtures.ts';

export const sha = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface Layout {
  dir: string;
  layerDigests: string[];
  diffIds: string[];
  manifestDigest: string;
}

export async function writeBlob(dir: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
  const digest = sha(data);
  await fsp.mkdir(nodePath.join(dir, 'blobs', 'sha256'), { recursive: true });
  await fsp.writeFile(nodePath.join(dir, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: Buffer.byteLength(data) };
}

export async function makeLayout(dir: string, tamper: { diffId?: boolean; layerBytes?: boolean } = {}): Promise<Layout> {
  await fsp.mkdir(dir, { recursive: true });
  const base = await packTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n' },
    { name: 'etc/motd', body: 'old\n' },
    { name: 'bin/app', body: '#!/bin/sh\necho hi\n', mode: 0o755 },
  ]);
  const top = await packTar([{ name: 'etc/.wh.motd' }, { name: 'srv/index.html', body: '<h1>berth</h1>\n' }]);
  const blobs = [gzip(base), zstd(top)];
  const layers = [];
  for (const [i, blob] of blobs.entries()) {
    const written = await writeBlob(dir, blob);
    if (tamper.layerBytes === true && i === 1) await fsp.appendFile(nodePath.join(dir, 'blobs/sha256', written.digest.slice(7)), 'x');
    layers.push({ mediaType: i === 0 ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar+zstd', ...written });
  }
  const diffIds = [sha(base), tamper.diffId === true ? sha('not it') : sha(top)];
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/app'], User: 'app' }, rootfs: { type: 'layers', diff_ids: diffIds } });
  const configBlob = await writeBlob(dir, config);
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, ...configBlob }, layers });
  const manifestBlob = await writeBlob(dir, manifest);
  const armManifest = await writeBlob(dir, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, ...configBlob }, layers: [] }));
  const nested = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      { mediaType: MEDIA_TYPES.ociManifest, ...armManifest, platform: { os: 'linux', architecture: 'arm64' } },
      { mediaType: MEDIA_TYPES.ociManifest, ...manifestBlob, platform: { os: 'linux', architecture: 'amd64' } },
    ],
  });
  const nestedBlob = await writeBlob(dir, nested);
  await fsp.writeFile(nodePath.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await fsp.writeFile(
    nodePath.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociIndex, ...nestedBlob, annotations: { 'org.opencontainers.image.ref.name': 'web:1' } }] }),
  );
  return { dir, layerDigests: layers.map((l) => l.digest), diffIds, manifestDigest: manifestBlob.digest };
}
