import t from 'tap';
import {
  familiarReference,
  formatReference,
  manifestSelector,
  parseReference,
  registryApiHost,
  type ImageReference,
} from '../../src/core/reference.ts';
import { digestProblem, isDigest, parseDigest, shortDigest } from '../../src/core/digest.ts';
import { errorCode } from '../../../lib/errors.ts';

const SHA = `sha256:${'a1'.repeat(32)}` as const;

void t.test('normalises to Docker defaults', (t) => {
  const cases: [string, ImageReference, string][] = [
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, 'docker.io/library/nginx:latest'],
    ['nginx:1.27-alpine', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27-alpine' }, 'docker.io/library/nginx:1.27-alpine'],
    ['library/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, 'docker.io/library/nginx:latest'],
    ['index.docker.io/library/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, 'docker.io/library/nginx:latest'],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }, 'docker.io/bitnami/redis:7'],
    ['ghcr.io/org/team/app:v1.2.3', { registry: 'ghcr.io', repository: 'org/team/app', tag: 'v1.2.3' }, 'ghcr.io/org/team/app:v1.2.3'],
    ['ghcr.io/app', { registry: 'ghcr.io', repository: 'app', tag: 'latest' }, 'ghcr.io/app:latest'],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }, 'localhost/app:latest'],
    ['localhost:5000/app:dev', { registry: 'localhost:5000', repository: 'app', tag: 'dev' }, 'localhost:5000/app:dev'],
    ['registry.example.com:5000/a/b', { registry: 'registry.example.com:5000', repository: 'a/b', tag: 'latest' }, 'registry.example.com:5000/a/b:latest'],
    ['127.0.0.1:5000/app', { registry: '127.0.0.1:5000', repository: 'app', tag: 'latest' }, '127.0.0.1:5000/app:latest'],
    ['[::1]:5000/app:1', { registry: '[::1]:5000', repository: 'app', tag: '1' }, '[::1]:5000/app:1'],
    ['Registry.Local/app', { registry: 'Registry.Local', repository: 'app', tag: 'latest' }, 'Registry.Local/app:latest'],
    [`nginx@${SHA}`, { registry: 'docker.io', repository: 'library/nginx', digest: SHA }, `docker.io/library/nginx@${SHA}`],
    [`nginx:1.27@${SHA}`, { registry: 'docker.io', repository: 'library/nginx', tag: '1.27', digest: SHA }, `docker.io/library/nginx:1.27@${SHA}`],
    [`localhost:5000/app@${SHA}`, { registry: 'localhost:5000', repository: 'app', digest: SHA }, `localhost:5000/app@${SHA}`],
    // As in Docker: without a '/', the ':' starts a tag, so this is library/localhost tagged 5000.
    ['localhost:5000', { registry: 'docker.io', repository: 'library/localhost', tag: '5000' }, 'docker.io/library/localhost:5000'],
    ['a/b-c_d.e__f---g', { registry: 'docker.io', repository: 'a/b-c_d.e__f---g', tag: 'latest' }, 'docker.io/a/b-c_d.e__f---g:latest'],
    ['app:_tag.With-Caps', { registry: 'docker.io', repository: 'library/app', tag: '_tag.With-Caps' }, 'docker.io/library/app:_tag.With-Caps'],
  ];
  for (const [input, expected, formatted] of cases) {
    const parsed = parseReference(input);
    t.same(parsed, expected, input);
    t.equal(formatReference(parsed), formatted, `format ${input}`);
    t.same(parseReference(formatted), parsed, `round trip ${input}`);
  }
  t.end();
});

void t.test('refuses invalid references with a clear reason', (t) => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    [' nginx', /whitespace/],
    ['ngi nx', /whitespace/],
    ['Nginx', /must be lowercase \('Nginx'\)/],
    ['org/App:1', /must be lowercase/],
    ['nginx:', /tag ''/],
    ['nginx:-bad', /tag '-bad'/],
    [`nginx:${'x'.repeat(129)}`, /tag/],
    ['nginx@sha256:abc', /digest 'sha256:abc': sha256 digest must be 64 lowercase hex/],
    [`nginx@md5:${'a'.repeat(32)}`, /unsupported algorithm 'md5'/],
    [`nginx@sha256:${'A1'.repeat(32)}`, /lowercase hex/],
    ['a//b', /empty path component/],
    ['/nginx', /empty path component/],
    ['nginx/', /empty path component/],
    ['-nginx', /path component '-nginx'/],
    ['ngin_-x', /path component/],
    ['a/b..c', /path component 'b..c'/],
    ['host_name.com/app', /registry host 'host_name.com'/],
    ['host.com:port/app', /registry host/],
    ['-host.com/app', /registry host/],
    [':5000/app', /missing repository|path component|registry host/],
    [`a/${'b'.repeat(300)}`, /longer than 255/],
  ];
  for (const [input, why] of cases) {
    t.throws(() => parseReference(input), { code: errorCode('RUNTIME_REFERENCE_INVALID'), message: why }, JSON.stringify(input));
  }
  t.throws(() => parseReference('Nginx'), { message: "Invalid image reference 'Nginx': repository name must be lowercase ('Nginx')" });
  t.end();
});

void t.test('short forms, selectors and API hosts', (t) => {
  t.equal(familiarReference(parseReference('nginx')), 'nginx:latest');
  t.equal(familiarReference(parseReference('docker.io/bitnami/redis:7')), 'bitnami/redis:7');
  t.equal(familiarReference(parseReference('docker.io/library/a/b')), 'library/a/b:latest');
  t.equal(familiarReference(parseReference('ghcr.io/org/app:1')), 'ghcr.io/org/app:1');
  t.equal(manifestSelector(parseReference('nginx:1')), '1');
  t.equal(manifestSelector(parseReference(`nginx:1@${SHA}`)), SHA, 'a digest wins over the tag');
  t.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
  t.equal(registryApiHost('localhost:5000'), 'localhost:5000');
  t.end();
});

void t.test('digests', (t) => {
  t.ok(isDigest(SHA));
  t.ok(isDigest(`sha512:${'0'.repeat(128)}`));
  t.notOk(isDigest('sha256:'));
  t.notOk(isDigest(42));
  t.same(parseDigest(SHA), { algorithm: 'sha256', encoded: 'a1'.repeat(32) });
  t.equal(digestProblem('nocolon'), 'expected "<algorithm>:<hex>"');
  t.throws(() => parseDigest('sha256:xyz'), { code: errorCode('RUNTIME_DIGEST_INVALID'), message: /Invalid digest 'sha256:xyz'/ });
  t.equal(shortDigest(SHA), 'sha256:a1a1a1a1a1a1…');
  t.equal(shortDigest('sha256:abc'), 'sha256:abc');
  t.end();
});
