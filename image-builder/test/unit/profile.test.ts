import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseProfile } from '../../src/profile/profile.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('the default qemu profile is valid', async (t) => {
  const profile = parseProfile(readFileSync(new URL('../../profiles/qemu.yaml', import.meta.url), 'utf8'), 'qemu.yaml');
  t.equal(profile.name, 'qemu');
  t.equal(profile.suite, 'trixie');
  t.equal(profile.partitions.root, 512 * 1024 * 1024);
  t.equal(profile.rootFilesystem, 'squashfs');
});

void t.test('defaults fill what a minimal profile leaves out', async (t) => {
  const profile = parseProfile('name: x\nversion: 1.0.0\nnode: 24.1.0\n', 'min.yaml');
  t.equal(profile.kernel, 'cloud');
  t.same(profile.packages, []);
  t.equal(profile.partitions.esp, 128 * 1024 * 1024);
});

void t.test('every problem is reported with key path and line', async (t) => {
  const text = ['name: x', 'version: one', 'node: 24.1.0', 'kernal: cloud', 'packages: [crun, 7]', 'partitions:', '  root: lots', ''].join('\n');
  const error = t.throws(() => parseProfile(text, 'bad.yaml'), { code: errorCode('PROFILE_INVALID') }) as Error;
  t.match(error.message, /bad\.yaml:2:\d+: version: /);
  t.match(error.message, /bad\.yaml:4:\d+: kernal: /);
  t.match(error.message, /bad\.yaml:5:\d+: packages\[1\]: /);
  t.match(error.message, /bad\.yaml:7:\d+: partitions\.root: /);
});

void t.test('preload: OCI layouts for the data partition', async (t) => {
  t.same(parseProfile('name: x\nversion: 1.0.0\nnode: 24.1.0\n', 'min.yaml').preload, [], 'none by default (blank data partition)');
  const profile = parseProfile(readFileSync(new URL('../../../qemu-tests/profiles/containers.yaml', import.meta.url), 'utf8'), 'containers.yaml');
  t.same(profile.preload, [{ name: 'berth-test', ociLayout: 'out/test-images/berth-test' }]);
  const head = 'name: x\nversion: 1.0.0\nnode: 24.1.0\npreload:\n';
  const twice = t.throws(() => parseProfile(`${head}  - { name: web, oci_layout: a }\n  - { name: web, oci_layout: b }\n`, 'p.yaml'), { code: errorCode('PROFILE_INVALID') }) as Error;
  t.match(twice.message, /preload\[1\]\.name: "web" is preloaded twice/);
  const bad = t.throws(() => parseProfile(`${head}  - { name: Bad, oci_layout: c, extra: 1 }\n`, 'p.yaml'), { code: errorCode('PROFILE_INVALID') }) as Error;
  t.match(bad.message, /preload\[0\]\.name: /);
  t.match(bad.message, /preload\[0\]\.extra: /);
});
