import t from 'tap';
import { backoffDelayMs, isRetryableStatus } from '../../../lib/retry.ts';
import { parseReference } from '../../src/core/reference.ts';
import {
  blobUrl,
  manifestUrl,
  parseWwwAuthenticate,
  pullScope,
  registryBaseUrl,
  REGISTRY_RETRY,
  tokenFromResponse,
  tokenRequestUrl,
} from '../../src/core/registry.ts';

void t.test('WWW-Authenticate challenges', (t) => {
  t.same(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
  ]);
  t.same(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  t.same(parseWwwAuthenticate('Basic realm="a", Bearer realm="https://x/token", error="insufficient_scope"'), [
    { scheme: 'basic', params: { realm: 'a' } },
    { scheme: 'bearer', params: { realm: 'https://x/token', error: 'insufficient_scope' } },
  ]);
  t.same(parseWwwAuthenticate('Bearer realm=https://x/token,service=svc'), [{ scheme: 'bearer', params: { realm: 'https://x/token', service: 'svc' } }], 'unquoted values');
  t.same(parseWwwAuthenticate('Bearer realm="a \\"quoted\\" realm"'), [{ scheme: 'bearer', params: { realm: 'a "quoted" realm' } }]);
  t.same(parseWwwAuthenticate(''), []);
  t.same(parseWwwAuthenticate('=="'), [], 'junk yields nothing');
  t.end();
});

void t.test('URLs and token requests', (t) => {
  const nginx = parseReference('nginx');
  t.equal(registryBaseUrl('docker.io', false), 'https://registry-1.docker.io');
  t.equal(registryBaseUrl('localhost:5000', true), 'http://localhost:5000');
  t.equal(manifestUrl('https://r', 'library/nginx', 'latest'), 'https://r/v2/library/nginx/manifests/latest');
  t.equal(manifestUrl('https://r', 'a/b', `sha256:${'a'.repeat(64)}`), `https://r/v2/a/b/manifests/sha256:${'a'.repeat(64)}`);
  t.equal(blobUrl('https://r', 'a/b', 'sha256:00'), 'https://r/v2/a/b/blobs/sha256:00');
  t.equal(pullScope(nginx), 'repository:library/nginx:pull');
  t.equal(tokenRequestUrl({ scheme: 'bearer', params: { realm: 'https://auth.example/token?x=1', service: 'reg' } }, 'repository:a:pull'), 'https://auth.example/token?x=1&service=reg&scope=repository%3Aa%3Apull');
  t.equal(tokenRequestUrl({ scheme: 'bearer', params: { realm: 'https://a/t', scope: 'repository:b:pull' } }, 'repository:a:pull'), 'https://a/t?scope=repository%3Ab%3Apull', "the challenge's scope wins");
  t.equal(tokenRequestUrl({ scheme: 'bearer', params: {} }, 's'), undefined);
  t.equal(tokenRequestUrl({ scheme: 'bearer', params: { realm: 'file:///etc/passwd' } }, 's'), undefined, 'only http(s) realms');
  t.equal(tokenRequestUrl({ scheme: 'bearer', params: { realm: 'not a url' } }, 's'), undefined);
  t.equal(tokenFromResponse({ token: 'a' }), 'a');
  t.equal(tokenFromResponse({ access_token: 'b' }), 'b');
  t.equal(tokenFromResponse({ token: '' }), undefined);
  t.equal(tokenFromResponse(null), undefined);
  t.end();
});

void t.test('retry policy', (t) => {
  t.same([200, 401, 404, 408, 429, 500, 503].map(isRetryableStatus), [false, false, false, true, true, true, true]);
  t.same([0, 1, 2, 3, 4, 5, 10].map((attempt) => backoffDelayMs(REGISTRY_RETRY, attempt)), [200, 400, 800, 1600, 3200, 5000, 5000]);
  t.end();
});
