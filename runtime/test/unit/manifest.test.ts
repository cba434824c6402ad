import t from 'tap';
import {
  MEDIA_TYPES,
  assertImageConsistent,
  formatPlatform,
  imageProblems,
  normalisePlatform,
  parseImageConfig,
  parseManifest,
  platformScore,
  selectPlatformManifest,
  type ImageIndex,
  type ImageManifest,
} from '../../src/core/manifest.ts';
import { errorCode } from '../../../lib/errors.ts';

const d = (n: number): `sha256:${string}` => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`;
const INDEX_DIGEST = d(1);

const dockerList = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.dockerManifestList,
  manifests: [
    { mediaType: MEDIA_TYPES.dockerManifest, digest: d(2), size: 1000, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
    { mediaType: MEDIA_TYPES.dockerManifest, digest: d(3), size: 1000, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MEDIA_TYPES.dockerManifest, digest: d(4), size: 1000, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ],
};

const ociIndex = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociIndex,
  manifests: [
    { mediaType: MEDIA_TYPES.ociManifest, digest: d(10), size: 500, platform: { architecture: 'amd64', os: 'linux', variant: 'v3' } },
    { mediaType: MEDIA_TYPES.ociManifest, digest: d(11), size: 500, platform: { architecture: 'amd64', os: 'linux', variant: 'v2' } },
    { mediaType: MEDIA_TYPES.ociManifest, digest: d(12), size: 500, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MEDIA_TYPES.ociManifest, digest: d(13), size: 500, platform: { architecture: 'unknown', os: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d(12) } },
    { mediaType: MEDIA_TYPES.ociManifest, digest: d(14), size: 500, platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.1' } },
  ],
  annotations: { 'org.opencontainers.image.ref.name': 'latest' },
  'x-unknown-extension': { kept: false },
};

const ociManifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: MEDIA_TYPES.ociConfig, digest: d(20), size: 1500 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d(21), size: 3_000_000 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: d(22), size: 100 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d(23), size: 2048 },
  ],
  annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
};

const dockerManifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.dockerManifest,
  config: { mediaType: MEDIA_TYPES.dockerConfig, digest: d(30), size: 7000 },
  layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d(31), size: 29_000_000 }],
};

const json = (value: unknown): string => JSON.stringify(value);

void t.test('parses the four document kinds', (t) => {
  const list = parseManifest(json(dockerList), { digest: INDEX_DIGEST });
  t.match(list, { kind: 'index', format: 'docker', digest: INDEX_DIGEST, manifests: [{ digest: d(2), platform: { variant: 'v7' } }, {}, {}] });
  const index = parseManifest(Buffer.from(json(ociIndex)), { digest: INDEX_DIGEST });
  t.match(index, { kind: 'index', format: 'oci', annotations: { 'org.opencontainers.image.ref.name': 'latest' } });
  t.equal((index as ImageIndex).manifests.length, 5);
  t.same((index as ImageIndex).manifests[4]?.platform, { architecture: 'amd64', os: 'windows', osVersion: '10.0.17763.1' });
  const manifest = parseManifest(json(ociManifest), { digest: d(5) }) as ImageManifest;
  t.match(manifest, { kind: 'manifest', format: 'oci', config: { digest: d(20), size: 1500 } });
  t.same(manifest.layers.map((l) => l.compression), ['gzip', 'zstd', 'none']);
  const docker = parseManifest(json(dockerManifest), { digest: d(6), contentType: `${MEDIA_TYPES.dockerManifest}; charset=utf-8` }) as ImageManifest;
  t.match(docker, { kind: 'manifest', format: 'docker', layers: [{ compression: 'gzip', size: 29_000_000 }] });
  t.end();
});

void t.test('the media type comes from the field, the Content-Type, or the shape', (t) => {
  const { mediaType: _m, ...bareIndex } = ociIndex;
  const { mediaType: _n, ...bareManifest } = ociManifest;
  t.match(parseManifest(json(bareIndex), { digest: INDEX_DIGEST }), { kind: 'index', format: 'oci' });
  t.match(parseManifest(json(bareManifest), { digest: d(5) }), { kind: 'manifest', format: 'oci' });
  t.match(parseManifest(json(bareIndex), { digest: INDEX_DIGEST, contentType: MEDIA_TYPES.dockerManifestList }), { format: 'docker' });
  t.match(parseManifest(json(bareManifest), { digest: d(5), contentType: 'application/json' }), { format: 'oci' }, 'a generic Content-Type says nothing');
  t.throws(() => parseManifest(json(ociIndex), { digest: INDEX_DIGEST, contentType: MEDIA_TYPES.dockerManifest }), {
    code: errorCode('RUNTIME_MANIFEST_INVALID'),
    message: /mediaType: "application\/vnd.oci.image.index.v1\+json" contradicts the Content-Type/,
  });
  t.end();
});

void t.test('invalid documents: every problem at once, with the digest and the field', (t) => {
  const broken = {
    ...ociManifest,
    schemaVersion: 3,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'sha256:short', size: -1 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d(1) }, 'nope'],
  };
  const error = t.throws(() => parseManifest(json(broken), { digest: d(9) }), { code: errorCode('RUNTIME_MANIFEST_INVALID') }) as unknown as Error;
  t.match(error.message, /^Invalid image manifest sha256:090909090909…: /);
  t.match(error.message, /config\.digest: invalid digest "sha256:short": sha256 digest must be 64 lowercase hex characters/);
  t.match(error.message, /config\.size: expected an integer/);
  t.match(error.message, /layers\[0\]: missing required key "size"/);
  t.match(error.message, /layers\[1\]: expected a mapping but got/);

  t.throws(() => parseManifest('{"schemaVersion": 2, "manifests": [', { digest: d(9) }), { code: errorCode('RUNTIME_MANIFEST_INVALID'), message: /not JSON/ });
  t.throws(() => parseManifest('[]', { digest: d(9) }), { message: /expected a JSON object/ });
  t.throws(() => parseManifest('{"schemaVersion": 2}', { digest: d(9) }), { message: /neither an index nor a manifest/ });
  t.throws(() => parseManifest(json({ ...ociIndex, schemaVersion: 1 }), { digest: d(9) }), { message: /schemaVersion: expected 2 but got 1/ });
  t.throws(() => parseManifest(' '.repeat(4 * 1024 * 1024 + 1), { digest: d(9) }), { message: /more than the limit/ });
  const noPlatform = { ...dockerList, manifests: [{ mediaType: MEDIA_TYPES.dockerManifest, digest: d(2), size: 1 }] };
  t.throws(() => parseManifest(json(noPlatform), { digest: d(9) }), { message: /Invalid manifest list .*manifests\[0\]\.platform: required in a Docker manifest list/ });
  t.throws(
    () => parseManifest(json({ ...ociManifest, layers: [{ mediaType: 'application/x-tar-lz4', digest: d(1), size: 1 }, { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d(2), size: 1 }] }), { digest: d(9) }),
    { message: /layers\[0\]\.mediaType: unknown layer media type "application\/x-tar-lz4"; layers\[1\]\.mediaType: foreign/ },
  );
  t.end();
});

void t.test('unsupported documents say why', (t) => {
  t.throws(() => parseManifest(json({ schemaVersion: 1, name: 'x', fsLayers: [] }), { digest: d(9) }), { code: errorCode('RUNTIME_MANIFEST_UNSUPPORTED'), message: /schema 1 is deprecated/ });
  t.throws(() => parseManifest('{}', { digest: d(9), contentType: MEDIA_TYPES.dockerSchema1Signed }), { code: errorCode('RUNTIME_MANIFEST_UNSUPPORTED') });
  t.throws(() => parseManifest(json({ ...ociManifest, mediaType: 'application/vnd.example+json' }), { digest: d(9) }), { code: errorCode('RUNTIME_MANIFEST_UNSUPPORTED'), message: /"application\/vnd.example\+json" is not an image index or manifest/ });
  const artifact = { ...ociManifest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', config: { mediaType: MEDIA_TYPES.ociEmpty, digest: d(1), size: 2 } };
  t.throws(() => parseManifest(json(artifact), { digest: d(9) }), { code: errorCode('RUNTIME_MANIFEST_UNSUPPORTED'), message: /artifact of type "application\/vnd.dev.sigstore.bundle.v0.3\+json", not a container image/ });
  t.end();
});

void t.test('platform selection', (t) => {
  const list = parseManifest(json(dockerList), { digest: INDEX_DIGEST }) as ImageIndex;
  t.equal(selectPlatformManifest(list).digest, d(3), 'linux/amd64 by default');
  t.equal(selectPlatformManifest(list, { os: 'linux', architecture: 'arm64' }).digest, d(4), 'arm64 means arm64/v8');
  t.equal(selectPlatformManifest(list, { os: 'linux', architecture: 'aarch64' }).digest, d(4), 'aarch64 alias');
  t.equal(selectPlatformManifest(list, { os: 'linux', architecture: 'arm', variant: 'v8' }).digest, d(2), 'v7 code runs on an armv8 CPU');
  t.throws(() => selectPlatformManifest(list, { os: 'linux', architecture: 'arm', variant: 'v6' }), {
    code: errorCode('RUNTIME_PLATFORM_NOT_FOUND'),
    message: 'No manifest for linux/arm/v6 in manifest list sha256:010101010101…: it offers linux/arm/v7, linux/amd64, linux/arm64/v8',
  });

  const index = parseManifest(json(ociIndex), { digest: INDEX_DIGEST }) as ImageIndex;
  t.equal(selectPlatformManifest(index).digest, d(12), 'a generic amd64 host takes the v1 build');
  t.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'amd64', variant: 'v2' }).digest, d(11), 'exact variant');
  t.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'amd64', variant: 'v4' }).digest, d(10), 'highest variant the CPU runs');
  t.equal(selectPlatformManifest(index, { os: 'windows', architecture: 'amd64' }).digest, d(14));
  t.throws(() => selectPlatformManifest(index, { os: 'linux', architecture: 's390x' }), { message: /it offers linux\/amd64\/v3, linux\/amd64\/v2, linux\/amd64, windows\/amd64$/ }, 'attestations are not offered');
  const empty = parseManifest(json({ schemaVersion: 2, manifests: [] }), { digest: INDEX_DIGEST }) as ImageIndex;
  t.throws(() => selectPlatformManifest(empty), { message: /it offers no image manifests with a platform/ });

  t.same(normalisePlatform({ os: 'Linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64', variant: 'v1' });
  t.same(normalisePlatform({ os: 'linux', architecture: 'armhf' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  t.equal(platformScore({ os: 'linux', architecture: 'amd64', variant: 'v3' }, { os: 'linux', architecture: 'amd64' }), undefined, 'v3 code does not run on a v1 host');
  t.equal(platformScore({ os: 'linux', architecture: 'riscv64', variant: 'rva22' }, { os: 'linux', architecture: 'riscv64' }), undefined, 'unknown variants only match exactly');
  t.equal(platformScore({ os: 'linux', architecture: 'riscv64', variant: 'rva22' }, { os: 'linux', architecture: 'riscv64', variant: 'rva22' }), 1000);
  t.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  t.end();
});

const dockerConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2026-01-01T00:00:00Z',
  config: {
    Hostname: '',
    User: 'nginx',
    ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8080': {} },
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NGINX_VERSION=1.27.0', 'EMPTY='],
    Entrypoint: ['/docker-entrypoint.sh'],
    Cmd: ['nginx', '-g', 'daemon off;'],
    Volumes: { '/var/cache/nginx': {} },
    WorkingDir: '',
    Labels: { maintainer: 'NGINX Docker Maintainers' },
    StopSignal: 'SIGQUIT',
    Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 30_000_000_000, Timeout: 0, Retries: 3 },
    OnBuild: null,
  },
  rootfs: { type: 'layers', diff_ids: [d(40), d(41)] },
  history: [{ created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:…' }, { empty_layer: true }],
};

void t.test('image config', (t) => {
  const config = parseImageConfig(json(dockerConfig), { digest: d(30) });
  t.same(config, {
    digest: d(30),
    os: 'linux',
    architecture: 'amd64',
    created: '2026-01-01T00:00:00Z',
    user: 'nginx',
    env: dockerConfig.config.Env,
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['nginx', '-g', 'daemon off;'],
    exposedPorts: ['53/udp', '80/tcp', '8080/tcp'],
    volumes: ['/var/cache/nginx'],
    labels: { maintainer: 'NGINX Docker Maintainers' },
    stopSignal: 'SIGQUIT',
    healthcheck: { test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], intervalNs: 30_000_000_000, retries: 3 },
    diffIds: [d(40), d(41)],
  });
  const minimal = parseImageConfig(json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Env: null, Cmd: null } }), { digest: d(31) });
  t.same(minimal, { digest: d(31), os: 'linux', architecture: 'amd64', env: [], entrypoint: [], cmd: [], exposedPorts: [], volumes: [], labels: {}, diffIds: [] });

  const broken = { os: 'linux', config: { Env: ['NOEQUALS'], Cmd: 'nginx', ExposedPorts: { http: {} } }, rootfs: { type: 'tarball', diff_ids: ['md5:x'] } };
  const error = t.throws(() => parseImageConfig(json(broken), { digest: d(32) }), { code: errorCode('RUNTIME_IMAGE_CONFIG_INVALID') }) as unknown as Error;
  t.match(error.message, /^Invalid image config sha256:202020202020…: /);
  for (const part of [/missing required key "architecture"/, /config\.Env\[0\]: expected an environment entry "NAME=value"/, /config\.Cmd: expected a sequence/, /config\.ExposedPorts\.http: invalid key/, /rootfs\.type: expected "layers"/, /rootfs\.diff_ids\[0\]: invalid digest "md5:x"/]) {
    t.match(error.message, part);
  }
  t.throws(() => parseImageConfig('"a string"', { digest: d(32) }), { message: /expected a JSON object/ });
  t.end();
});

void t.test('manifest and config consistency', (t) => {
  const manifest = parseManifest(json(dockerManifest), { digest: d(6) }) as ImageManifest;
  const config = parseImageConfig(json(dockerConfig), { digest: d(30) });
  t.same(imageProblems(manifest, config), ['rootfs.diff_ids: 2 entries for 1 layers in manifest sha256:060606060606…']);
  const oneLayer = { ...config, diffIds: [d(40)] };
  t.same(imageProblems(manifest, oneLayer), []);
  t.same(imageProblems(manifest, { ...oneLayer, architecture: 'arm64' }), ['architecture: image is linux/arm64, this host runs linux/amd64']);
  t.doesNotThrow(() => assertImageConsistent(manifest, oneLayer));
  t.throws(() => assertImageConsistent(manifest, config), { code: errorCode('RUNTIME_IMAGE_CONFIG_INVALID'), message: /^Invalid image config sha256:1e1e1e1e1e1e…: rootfs.diff_ids/ });
  t.end();
});
