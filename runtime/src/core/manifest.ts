/**
 * OCI image indexes and manifests, Docker schema 2 manifest lists and manifests, and image
 * configs: parsing and validation (every problem at once, each with its field path and the
 * blob's digest), platform selection (linux/amd64 by default, with variants), and the
 * consistency checks between a manifest and its config. Pure.
 */
import { BerthError, type RuntimeErrorCode } from '../../../lib/errors.ts';
import {
  INVALID,
  array,
  boolean,
  custom,
  formatProblem,
  integer,
  object,
  record,
  string,
  unknownValue,
  validate,
  type Infer,
  type Problem,
} from '../../../lib/config/validate.ts';
import { digestProblem, shortDigest, type Digest } from './digest.ts';

/** How a layer blob is compressed. */
export type Compression = 'none' | 'gzip' | 'zstd';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** The Accept header value for manifest requests: everything parseManifest understands. */
export const MANIFEST_ACCEPT: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest];

/** Layer media types berth unpacks, with their compression. */
export const LAYER_MEDIA_TYPES: Readonly<Record<string, Compression>> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  // Docker sends uncompressed layers from `docker save`-style sources under this name.
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
};

/** Layers whose blobs live on foreign URLs (Windows base layers); berth never fetches those. */
const FOREIGN_LAYER_MEDIA_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

/** Registries cap manifests at 4 MiB (distribution's limit); larger ones are refused unparsed. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Image configs hold history and labels; generous but bounded. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export type ManifestFormat = 'oci' | 'docker';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface LayerDescriptor extends Descriptor {
  compression: Compression;
}

export interface ImageIndex {
  kind: 'index';
  format: ManifestFormat;
  mediaType: string;
  digest: string;
  manifests: Descriptor[];
  annotations: Record<string, string>;
}

export interface ImageManifest {
  kind: 'manifest';
  format: ManifestFormat;
  mediaType: string;
  digest: string;
  config: Descriptor;
  layers: LayerDescriptor[];
  annotations: Record<string, string>;
}

export type ParsedManifest = ImageIndex | ImageManifest;

// Readers MUST ignore unknown properties (OCI image spec, "Extensibility"), so every object
// here accepts and drops keys it does not know; the machine config is where typos are errors.
const ANY_KEY = /.*/;

const digestSchema = custom<Digest>('a digest like "sha256:<64 hex>"', (value, report) => {
  if (typeof value !== 'string') return INVALID;
  const problem = digestProblem(value);
  if (problem !== undefined) {
    report(`invalid digest "${value}": ${problem}`);
    return INVALID;
  }
  return value as Digest;
}, (value) => typeof value === 'string');

const platformSchema = object(
  {
    architecture: string({ minLength: 1 }),
    os: string({ minLength: 1 }),
    variant: string().optional(),
    'os.version': string().optional(),
    'os.features': array(string()).optional(),
  },
  { allowKeys: ANY_KEY },
);

const descriptorSchema = object(
  {
    mediaType: string({ minLength: 1 }),
    digest: digestSchema,
    size: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    platform: platformSchema.optional(),
    annotations: record(string()).optional(),
    artifactType: string().optional(),
    urls: array(string()).optional(),
  },
  { allowKeys: ANY_KEY },
);

const indexSchema = object(
  {
    schemaVersion: integer(),
    mediaType: string().optional(),
    manifests: array(descriptorSchema),
    annotations: record(string()).optional(),
  },
  { allowKeys: ANY_KEY },
);

const manifestSchema = object(
  {
    schemaVersion: integer(),
    mediaType: string().optional(),
    artifactType: string().optional(),
    config: descriptorSchema,
    layers: array(descriptorSchema),
    annotations: record(string()).optional(),
  },
  { allowKeys: ANY_KEY },
);

function fail(code: RuntimeErrorCode, what: string, digest: string, problems: readonly string[]): BerthError {
  const list = problems.join('; ');
  return new BerthError(code, `Invalid ${what} ${shortDigest(digest)}: ${list}`);
}

function problemTexts(problems: readonly Problem[]): string[] {
  return problems.map((problem) => formatProblem('', problem).replace(/^: /, ''));
}

function parseJson(bytes: Uint8Array | string, what: string, digest: string, maxBytes: number): unknown {
  const length = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (length > maxBytes) throw fail('RUNTIME_MANIFEST_INVALID', what, digest, [`${length} bytes is more than the limit of ${maxBytes}`]);
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw fail('RUNTIME_MANIFEST_INVALID', what, digest, [`not JSON (${error instanceof Error ? error.message : String(error)})`]);
  }
}

function platformOf(raw: Infer<typeof platformSchema>): Platform {
  const platform: Platform = { os: raw.os, architecture: raw.architecture };
  if (raw.variant !== undefined && raw.variant !== '') platform.variant = raw.variant;
  if (raw['os.version'] !== undefined) platform.osVersion = raw['os.version'];
  if (raw['os.features'] !== undefined) platform.osFeatures = raw['os.features'];
  return platform;
}

function descriptorOf(raw: Infer<typeof descriptorSchema>): Descriptor {
  const descriptor: Descriptor = { mediaType: raw.mediaType, digest: raw.digest, size: raw.size };
  if (raw.platform !== undefined) descriptor.platform = platformOf(raw.platform);
  if (raw.annotations !== undefined) descriptor.annotations = raw.annotations;
  if (raw.artifactType !== undefined) descriptor.artifactType = raw.artifactType;
  return descriptor;
}

/** Which of the four kinds a document is, from its mediaType field, the Content-Type, or its shape. */
function mediaTypeOf(document: Record<string, unknown>, contentType: string | undefined, digest: string): string {
  const field = typeof document.mediaType === 'string' ? document.mediaType : undefined;
  // Registries may append parameters (`; charset=utf-8`).
  const header = contentType?.split(';')[0]?.trim();
  const usefulHeader = header === undefined || header === '' || header === 'application/json' || header === 'application/octet-stream' ? undefined : header;
  if (field !== undefined && usefulHeader !== undefined && field !== usefulHeader) {
    throw fail('RUNTIME_MANIFEST_INVALID', 'manifest', digest, [`mediaType: "${field}" contradicts the Content-Type "${usefulHeader}"`]);
  }
  const declared = field ?? usefulHeader;
  if (declared !== undefined) return declared;
  if (document.schemaVersion === 1) return MEDIA_TYPES.dockerSchema1;
  if ('manifests' in document) return MEDIA_TYPES.ociIndex;
  if ('config' in document || 'layers' in document) return MEDIA_TYPES.ociManifest;
  throw fail('RUNTIME_MANIFEST_INVALID', 'manifest', digest, ['mediaType: missing, and the document is neither an index nor a manifest']);
}

export interface ParseManifestOptions {
  /** The digest the document was fetched or stored under; named in every message. */
  digest: string;
  /** The HTTP Content-Type, when the document came from a registry. */
  contentType?: string;
}

/**
 * Parses and validates an index, manifest list or manifest. Throws RUNTIME_MANIFEST_INVALID
 * listing every problem with its field path, or RUNTIME_MANIFEST_UNSUPPORTED for schema 1,
 * artifacts and foreign layers.
 */
export function parseManifest(bytes: Uint8Array | string, options: ParseManifestOptions): ParsedManifest {
  const { digest } = options;
  const document = parseJson(bytes, 'manifest', digest, MAX_MANIFEST_BYTES);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw fail('RUNTIME_MANIFEST_INVALID', 'manifest', digest, ['expected a JSON object']);
  }
  const mediaType = mediaTypeOf(document as Record<string, unknown>, options.contentType, digest);
  switch (mediaType) {
    case MEDIA_TYPES.dockerSchema1:
    case MEDIA_TYPES.dockerSchema1Signed:
      throw new BerthError('RUNTIME_MANIFEST_UNSUPPORTED', `Unsupported manifest ${shortDigest(digest)}: Docker schema 1 is deprecated; push the image again with a current Docker, Buildah or skopeo`);
    case MEDIA_TYPES.ociIndex:
    case MEDIA_TYPES.dockerManifestList:
      return parseIndex(document, mediaType, digest);
    case MEDIA_TYPES.ociManifest:
    case MEDIA_TYPES.dockerManifest:
      return parseImageManifest(document, mediaType, digest);
    default:
      throw new BerthError('RUNTIME_MANIFEST_UNSUPPORTED', `Unsupported manifest ${shortDigest(digest)}: media type "${mediaType}" is not an image index or manifest`);
  }
}

function parseIndex(document: unknown, mediaType: string, digest: string): ImageIndex {
  const result = validate(indexSchema, document);
  const format: ManifestFormat = mediaType === MEDIA_TYPES.ociIndex ? 'oci' : 'docker';
  const problems = result.ok ? [] : problemTexts(result.problems);
  if (result.ok) {
    const raw = result.value;
    if (raw.schemaVersion !== 2) problems.push(`schemaVersion: expected 2 but got ${raw.schemaVersion}`);
    raw.manifests.forEach((entry, i) => {
      if (format === 'docker' && entry.platform === undefined) problems.push(`manifests[${i}].platform: required in a Docker manifest list`);
    });
  }
  if (!result.ok || problems.length > 0) throw fail('RUNTIME_MANIFEST_INVALID', format === 'oci' ? 'image index' : 'manifest list', digest, problems);
  return {
    kind: 'index',
    format,
    mediaType,
    digest,
    manifests: result.value.manifests.map(descriptorOf),
    annotations: result.value.annotations ?? {},
  };
}

function parseImageManifest(document: unknown, mediaType: string, digest: string): ImageManifest {
  const result = validate(manifestSchema, document);
  const format: ManifestFormat = mediaType === MEDIA_TYPES.ociManifest ? 'oci' : 'docker';
  if (!result.ok) throw fail('RUNTIME_MANIFEST_INVALID', 'image manifest', digest, problemTexts(result.problems));
  const raw = result.value;
  const problems: string[] = [];
  if (raw.schemaVersion !== 2) problems.push(`schemaVersion: expected 2 but got ${raw.schemaVersion}`);
  const configType = raw.config.mediaType;
  if (configType !== MEDIA_TYPES.ociConfig && configType !== MEDIA_TYPES.dockerConfig) {
    const kind = raw.artifactType ?? configType;
    throw new BerthError('RUNTIME_MANIFEST_UNSUPPORTED', `Unsupported manifest ${shortDigest(digest)}: an artifact of type "${kind}", not a container image (config.mediaType)`);
  }
  const layers: LayerDescriptor[] = [];
  raw.layers.forEach((layer, i) => {
    const compression = LAYER_MEDIA_TYPES[layer.mediaType];
    if (FOREIGN_LAYER_MEDIA_TYPES.has(layer.mediaType)) {
      problems.push(`layers[${i}].mediaType: foreign (non-distributable) layer "${layer.mediaType}" is not supported`);
    } else if (compression === undefined) {
      problems.push(`layers[${i}].mediaType: unknown layer media type "${layer.mediaType}"`);
    } else {
      layers.push({ ...descriptorOf(layer), compression });
    }
  });
  if (problems.length > 0) throw fail('RUNTIME_MANIFEST_INVALID', 'image manifest', digest, problems);
  return {
    kind: 'manifest',
    format,
    mediaType,
    digest,
    config: descriptorOf(raw.config),
    layers,
    annotations: raw.annotations ?? {},
  };
}

// ---------------------------------------------------------------------------------------------
// Platforms

/** The platform berth runs on; a guest on an x86-64-v3 CPU may say variant 'v3'. */
export const DEFAULT_PLATFORM: Readonly<Platform> = { os: 'linux', architecture: 'amd64' };

const ARCHITECTURE_ALIASES: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
  i686: { architecture: '386' },
};

/** The variant an absent one means, per architecture (containerd's normalisation). */
const DEFAULT_VARIANTS: Readonly<Record<string, string>> = { amd64: 'v1', arm64: 'v8', arm: 'v7' };

/** Canonical names: x86_64 -> amd64, aarch64 -> arm64, arm64 'v8' and amd64 'v1' made explicit. */
export function normalisePlatform(platform: Platform): Platform {
  const alias = ARCHITECTURE_ALIASES[platform.architecture.toLowerCase()];
  const architecture = alias?.architecture ?? platform.architecture.toLowerCase();
  const variant = platform.variant?.toLowerCase() ?? alias?.variant ?? DEFAULT_VARIANTS[architecture];
  const out: Platform = { os: platform.os.toLowerCase(), architecture };
  if (variant !== undefined) out.variant = variant;
  if (platform.osVersion !== undefined) out.osVersion = platform.osVersion;
  return out;
}

/** `linux/amd64`, `linux/arm64/v8`. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter((part) => part !== undefined && part !== '').join('/');
}

/** Variant levels that run on a host of the same architecture: v1 code runs on a v3 CPU, not the reverse. */
function variantRank(architecture: string, variant: string | undefined): number | undefined {
  if (variant === undefined) return 0;
  const match = /^v(\d+)$/.exec(variant);
  if (match === null) return undefined;
  const level = Number(match[1]);
  return architecture === 'arm64' || architecture === 'amd64' || architecture === 'arm' ? level : undefined;
}

/**
 * How well an image platform fits the host: undefined when it cannot run, else a score where
 * higher is better (the highest variant the host supports wins, as in containerd).
 */
export function platformScore(image: Platform, host: Platform): number | undefined {
  const want = normalisePlatform(host);
  const have = normalisePlatform(image);
  if (have.os !== want.os || have.architecture !== want.architecture) return undefined;
  if (have.variant === want.variant) return 1000;
  const haveRank = variantRank(have.architecture, have.variant);
  const wantRank = variantRank(want.architecture, want.variant);
  if (haveRank === undefined || wantRank === undefined || haveRank > wantRank) return undefined;
  return haveRank;
}

function isAttestation(descriptor: Descriptor): boolean {
  return descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

/**
 * Picks the manifest for `host` from an index: exact variant first, else the highest
 * compatible variant, earliest in the index on ties. Attestations and entries without a
 * platform are skipped. Throws RUNTIME_PLATFORM_NOT_FOUND listing what the index offers.
 */
export function selectPlatformManifest(index: ImageIndex, host: Platform = DEFAULT_PLATFORM): Descriptor {
  let best: { descriptor: Descriptor; score: number } | undefined;
  const offered: string[] = [];
  for (const descriptor of index.manifests) {
    if (isAttestation(descriptor) || descriptor.platform === undefined) continue;
    if (descriptor.mediaType !== MEDIA_TYPES.ociManifest && descriptor.mediaType !== MEDIA_TYPES.dockerManifest) continue;
    offered.push(formatPlatform(descriptor.platform));
    const score = platformScore(descriptor.platform, host);
    if (score !== undefined && (best === undefined || score > best.score)) best = { descriptor, score };
  }
  if (best === undefined) {
    const list = offered.length === 0 ? 'no image manifests with a platform' : offered.join(', ');
    throw new BerthError('RUNTIME_PLATFORM_NOT_FOUND', `No manifest for ${formatPlatform(host)} in ${index.format === 'oci' ? 'image index' : 'manifest list'} ${shortDigest(index.digest)}: it offers ${list}`);
  }
  return best.descriptor;
}

// ---------------------------------------------------------------------------------------------
// Image config

export interface HealthcheckConfig {
  /** ["NONE"], ["CMD", ...] or ["CMD-SHELL", "..."]. */
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  startIntervalNs?: number;
  retries?: number;
}

/** The parts of an image config berth uses, normalised (absent lists are empty). */
export interface ImageConfig {
  digest: string;
  os: string;
  architecture: string;
  variant?: string;
  created?: string;
  user?: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir?: string;
  /** "53/udp", "80/tcp" (sorted). */
  exposedPorts: string[];
  volumes: string[];
  labels: Record<string, string>;
  stopSignal?: string;
  healthcheck?: HealthcheckConfig;
  /** Digests of the uncompressed layers, bottom first. */
  diffIds: Digest[];
}

const nanoseconds = integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const emptyObject = object({}, { allowKeys: ANY_KEY });

const runConfigSchema = object(
  {
    User: string().optional(),
    ExposedPorts: record(unknownValue(), { key: string({ pattern: /\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?/, expected: 'a port like "80/tcp"' }) }).optional(),
    Env: array(string({ pattern: /[^=]+=[\s\S]*/, expected: 'an environment entry "NAME=value"' })).optional(),
    Entrypoint: array(string()).optional(),
    Cmd: array(string()).optional(),
    Volumes: record(unknownValue()).optional(),
    WorkingDir: string().optional(),
    Labels: record(string()).optional(),
    StopSignal: string().optional(),
    ArgsEscaped: boolean().optional(),
    Healthcheck: object(
      {
        Test: array(string()).optional(),
        Interval: nanoseconds.optional(),
        Timeout: nanoseconds.optional(),
        StartPeriod: nanoseconds.optional(),
        StartInterval: nanoseconds.optional(),
        Retries: integer({ min: 0 }).optional(),
      },
      { allowKeys: ANY_KEY },
    ).optional(),
  },
  { allowKeys: ANY_KEY },
);

const imageConfigSchema = object(
  {
    architecture: string({ minLength: 1 }),
    os: string({ minLength: 1 }),
    variant: string().optional(),
    created: string().optional(),
    config: runConfigSchema.optional(),
    rootfs: object({ type: string({ pattern: /layers/, expected: '"layers"' }), diff_ids: array(digestSchema) }, { allowKeys: ANY_KEY }),
    history: array(emptyObject).optional(),
  },
  { allowKeys: ANY_KEY },
);

/** Parses and validates an image config blob; throws RUNTIME_IMAGE_CONFIG_INVALID listing every problem. */
export function parseImageConfig(bytes: Uint8Array | string, options: { digest: string }): ImageConfig {
  const { digest } = options;
  const document = parseJson(bytes, 'image config', digest, MAX_CONFIG_BYTES);
  const result = validate(imageConfigSchema, document);
  if (!result.ok) {
    const texts = problemTexts(result.problems).map((text) => (text.startsWith('expected a mapping') ? `expected a JSON object (${text})` : text));
    throw fail('RUNTIME_IMAGE_CONFIG_INVALID', 'image config', digest, texts);
  }
  const raw = result.value;
  const run = raw.config ?? {};
  const config: ImageConfig = {
    digest,
    os: raw.os,
    architecture: raw.architecture,
    env: run.Env ?? [],
    entrypoint: run.Entrypoint ?? [],
    cmd: run.Cmd ?? [],
    // Sorted: JSON object order is not meaningful, and JS would put "8080" before "80/tcp".
    exposedPorts: Object.keys(run.ExposedPorts ?? {}).map((port) => (port.includes('/') ? port : `${port}/tcp`)).sort(),
    volumes: Object.keys(run.Volumes ?? {}).sort(),
    labels: run.Labels ?? {},
    diffIds: raw.rootfs.diff_ids,
  };
  if (raw.variant !== undefined && raw.variant !== '') config.variant = raw.variant;
  if (raw.created !== undefined) config.created = raw.created;
  if (run.User !== undefined && run.User !== '') config.user = run.User;
  if (run.WorkingDir !== undefined && run.WorkingDir !== '') config.workingDir = run.WorkingDir;
  if (run.StopSignal !== undefined && run.StopSignal !== '') config.stopSignal = run.StopSignal;
  const health = run.Healthcheck;
  if (health?.Test !== undefined && health.Test.length > 0) {
    const healthcheck: HealthcheckConfig = { test: health.Test };
    if (health.Interval !== undefined && health.Interval > 0) healthcheck.intervalNs = health.Interval;
    if (health.Timeout !== undefined && health.Timeout > 0) healthcheck.timeoutNs = health.Timeout;
    if (health.StartPeriod !== undefined && health.StartPeriod > 0) healthcheck.startPeriodNs = health.StartPeriod;
    if (health.StartInterval !== undefined && health.StartInterval > 0) healthcheck.startIntervalNs = health.StartInterval;
    if (health.Retries !== undefined && health.Retries > 0) healthcheck.retries = health.Retries;
    config.healthcheck = healthcheck;
  }
  return config;
}

/**
 * Checks that a manifest and its config belong together and fit the host: as many diff_ids
 * as layers, and a platform the host can run. Returns every problem; empty when consistent.
 */
export function imageProblems(manifest: ImageManifest, config: ImageConfig, host: Platform = DEFAULT_PLATFORM): string[] {
  const problems: string[] = [];
  if (config.diffIds.length !== manifest.layers.length) {
    problems.push(`rootfs.diff_ids: ${config.diffIds.length} entries for ${manifest.layers.length} layers in manifest ${shortDigest(manifest.digest)}`);
  }
  const platform: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant !== undefined) platform.variant = config.variant;
  if (platformScore(platform, host) === undefined) {
    problems.push(`architecture: image is ${formatPlatform(platform)}, this host runs ${formatPlatform(host)}`);
  }
  return problems;
}

/** Throws RUNTIME_IMAGE_CONFIG_INVALID when imageProblems finds anything. */
export function assertImageConsistent(manifest: ImageManifest, config: ImageConfig, host: Platform = DEFAULT_PLATFORM): void {
  const problems = imageProblems(manifest, config, host);
  if (problems.length > 0) throw fail('RUNTIME_IMAGE_CONFIG_INVALID', 'image config', config.digest, problems);
}
