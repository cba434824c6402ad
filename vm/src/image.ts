/**
 * The built image the VM tests boot: reads and checks out/<profile>/manifest.json
 * (or BERTH_IMAGE_DIR). A missing image is a failure that says how to build one, never
 * a skipped test. Effects: reads the manifest and stats the disk files.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../../lib/errors.ts';
import { isRecord } from '../../lib/record.ts';

export type PartitionLabel = 'esp' | 'root-a' | 'root-b' | 'data';

export interface ManifestArtifact {
  path: string;
  size: number;
  sha256: string;
}

export interface ManifestPartition {
  label: PartitionLabel;
  index: number;
  startBytes: number;
  sizeBytes: number;
}

export interface ImageManifest {
  version: string;
  profile: string;
  artifacts: Record<string, ManifestArtifact>;
  partitions: ManifestPartition[];
  verity: { rootHash: string; dataBlocks: number; hashStartBlock: number; salt: string };
  rootImage: { sizeBytes: number };
}

export interface BuiltImage {
  dir: string;
  manifest: ImageManifest;
  /** Absolute path of disk.qcow2, the base of every test overlay. */
  qcow2: string;
  /** Absolute path of disk.raw, when the manifest lists one. */
  raw?: string;
  partition(label: PartitionLabel): ManifestPartition;
}

/** The repository root (qemu-tests/harness/../..). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Where the image of the default profile lands; BERTH_IMAGE_DIR overrides. */
export function defaultImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BERTH_IMAGE_DIR ?? join(REPO_ROOT, 'out', 'qemu'));
}

/** Where the image of the containers profile (busybox test image preloaded) lands; BERTH_CONTAINERS_IMAGE_DIR overrides. */
export function containersImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BERTH_CONTAINERS_IMAGE_DIR ?? join(REPO_ROOT, 'out', 'qemu-containers'));
}

const LABELS: readonly PartitionLabel[] = ['esp', 'root-a', 'root-b', 'data'];


function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Checks a parsed manifest; reports every problem at once, each with its path. */
export function checkManifest(value: unknown): { manifest?: ImageManifest; problems: string[] } {
  const problems: string[] = [];
  if (!isRecord(value)) return { problems: ['(root): expected an object'] };
  if (typeof value.version !== 'string' || value.version === '') problems.push('version: expected a non-empty string');
  if (typeof value.profile !== 'string') problems.push('profile: expected a string');
  if (!isRecord(value.artifacts)) {
    problems.push('artifacts: expected an object');
  } else {
    for (const [name, artifact] of Object.entries(value.artifacts)) {
      if (!isRecord(artifact)) {
        problems.push(`artifacts.${name}: expected an object`);
        continue;
      }
      if (typeof artifact.path !== 'string') problems.push(`artifacts.${name}.path: expected a string`);
      if (!isCount(artifact.size)) problems.push(`artifacts.${name}.size: expected a byte count`);
      if (typeof artifact.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(artifact.sha256)) problems.push(`artifacts.${name}.sha256: expected 64 hex digits`);
    }
  }
  if (!Array.isArray(value.partitions)) {
    problems.push('partitions: expected an array');
  } else {
    value.partitions.forEach((part: unknown, i) => {
      if (!isRecord(part)) {
        problems.push(`partitions[${i}]: expected an object`);
        return;
      }
      if (!LABELS.includes(part.label as PartitionLabel)) problems.push(`partitions[${i}].label: expected one of ${LABELS.join(', ')}`);
      if (!isCount(part.index) || part.index < 1) problems.push(`partitions[${i}].index: expected a partition number from 1`);
      if (!isCount(part.startBytes)) problems.push(`partitions[${i}].startBytes: expected a byte offset`);
      if (!isCount(part.sizeBytes) || part.sizeBytes === 0) problems.push(`partitions[${i}].sizeBytes: expected a byte count above 0`);
    });
    for (const label of LABELS) {
      const count = value.partitions.filter((p: unknown) => isRecord(p) && p.label === label).length;
      if (count !== 1) problems.push(`partitions: expected exactly one "${label}" partition, found ${count}`);
    }
  }
  if (!isRecord(value.verity)) {
    problems.push('verity: expected an object');
  } else {
    if (typeof value.verity.rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(value.verity.rootHash)) problems.push('verity.rootHash: expected 64 hex digits');
    if (!isCount(value.verity.dataBlocks)) problems.push('verity.dataBlocks: expected a block count');
    if (!isCount(value.verity.hashStartBlock)) problems.push('verity.hashStartBlock: expected a block number');
    if (typeof value.verity.salt !== 'string') problems.push('verity.salt: expected a string');
  }
  if (!isRecord(value.rootImage) || !isCount(value.rootImage.sizeBytes)) problems.push('rootImage.sizeBytes: expected a byte count');
  if (!isRecord(value.artifacts) || !findArtifact(value.artifacts as Record<string, ManifestArtifact>, 'disk.qcow2')) {
    problems.push('artifacts: expected an artifact whose path is disk.qcow2');
  }
  return problems.length > 0 ? { problems } : { manifest: value as unknown as ImageManifest, problems };
}

function findArtifact(artifacts: Record<string, ManifestArtifact>, fileName: string): ManifestArtifact | undefined {
  return Object.values(artifacts).find((a) => isRecord(a) && typeof a.path === 'string' && (a.path === fileName || a.path.endsWith(`/${fileName}`)));
}

/**
 * Loads the built image from `dir`: the manifest must parse and check, and the disk files
 * it names must exist with the sizes it records.
 */
export async function loadImage(dir: string = defaultImageDir()): Promise<BuiltImage> {
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new BerthError(
      'QEMU_IMAGE_MISSING',
      `No built image at ${manifestPath}: run \`npx berth build\` first (or point BERTH_IMAGE_DIR at a built image)`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BerthError('QEMU_IMAGE_INVALID', `Image manifest ${manifestPath} is not JSON: rebuild with \`npx berth build\``, { cause: error });
  }
  const { manifest, problems } = checkManifest(parsed);
  if (!manifest) {
    throw new BerthError('QEMU_IMAGE_INVALID', `Image manifest ${manifestPath} is invalid: ${problems.join('; ')}`);
  }
  const files: Partial<Record<'qcow2' | 'raw', string>> = {};
  for (const kind of ['qcow2', 'raw'] as const) {
    const artifact = findArtifact(manifest.artifacts, `disk.${kind}`);
    if (!artifact) continue;
    const path = resolve(dir, artifact.path);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      throw new BerthError('QEMU_IMAGE_MISSING', `Image file ${path} named by ${manifestPath} is missing: run \`npx berth build\``, { cause: error });
    }
    if (size !== artifact.size) {
      throw new BerthError(
        'QEMU_IMAGE_INVALID',
        `Image file ${path} has ${size} bytes but ${manifestPath} records ${artifact.size}: rebuild with \`npx berth build\``,
      );
    }
    files[kind] = path;
  }
  return {
    dir,
    manifest,
    qcow2: files.qcow2 ?? '',
    ...(files.raw === undefined ? {} : { raw: files.raw }),
    partition(label) {
      const part = manifest.partitions.find((p) => p.label === label);
      if (!part) throw new BerthError('QEMU_IMAGE_INVALID', `Image manifest ${manifestPath} has no ${label} partition`);
      return part;
    },
  };
}
