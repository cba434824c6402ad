/**
 * The API router: route matching (404/405 with Allow), registration rules, query and body
 * checks (malformed JSON, unknown fields, media types), and the JSON error bodies.
 */
import t from 'tap';
import { object, string, integer } from '../../../../lib/config/validate.ts';
import { ApiError, Router, errorBody, parseBody, parseQuery, type ApiRoute } from '../../../src/api/core/router.ts';
import { errorCode } from '../../../../lib/errors.ts';

const ok = () => Promise.resolve({ status: 200, json: {} });
const route = (over: Partial<ApiRoute>): ApiRoute => ({
  method: 'GET',
  path: '/v1/things',
  operationId: `op${Math.random()}`,
  summary: 's',
  responses: { 200: { description: 'ok' } },
  handler: ok,
  ...over,
});

function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

void t.test('resolve: exact paths, path parameters, 404 and 405', async (t) => {
  const router = new Router();
  router.register('things', [route({ path: '/v1/things' }), route({ path: '/v1/things/{name}' }), route({ method: 'POST', path: '/v1/things/{name}/start' })]);
  t.equal(router.resolve('GET', '/v1/things').route.path, '/v1/things');
  t.same(router.resolve('GET', '/v1/things/web%201').params, { name: 'web 1' });
  t.same(router.resolve('POST', '/v1/things/db/start').params, { name: 'db' });
  const notFound = caught(() => router.resolve('GET', '/v1/nothing'));
  t.equal(notFound.status, 404);
  t.equal(notFound.code, 'API_NOT_FOUND');
  t.equal(caught(() => router.resolve('GET', '/v1/things/')).status, 404, 'an empty parameter does not match');
  const wrong = caught(() => router.resolve('DELETE', '/v1/things/db/start'));
  t.equal(wrong.status, 405);
  t.same(wrong.headers, { allow: 'POST' });
  t.equal(router.routes()[0]?.component, 'things');
});

void t.test('register: duplicates and bad templates are bugs', async (t) => {
  const router = new Router();
  router.register('a', [route({ operationId: 'one' })]);
  t.throws(() => router.register('b', [route({ operationId: 'two' })]), /already registered by a/);
  t.throws(() => router.register('b', [route({ path: '/v1/other', operationId: 'one' })]), /used twice/);
  t.throws(() => router.register('b', [route({ path: 'v1/x', operationId: 'three' })]), /not a template/);
  t.throws(() => router.register('b', [route({ path: '/v1/X', operationId: 'four' })]), /not a template/);
});

void t.test('query: typed, bounded, unknown names refused, every problem at once', async (t) => {
  const r = route({
    query: [
      { name: 'tail', type: 'integer', minimum: 0, maximum: 10, description: '' },
      { name: 'follow', type: 'boolean', description: '' },
      { name: 'q', type: 'string', description: '' },
    ],
  });
  t.same(parseQuery(r, new URLSearchParams('tail=3&follow=1&q=x')), { tail: 3, follow: true, q: 'x' });
  t.same(parseQuery(r, new URLSearchParams('follow=false')), { follow: false });
  const error = caught(() => parseQuery(r, new URLSearchParams('tail=11&follow=maybe&lines=2&q=a&q=b')));
  t.equal(error.code, 'API_INVALID_QUERY');
  t.equal(error.status, 400);
  t.matchSnapshot(error.problems, 'query problems');
  t.match(caught(() => parseQuery(route({}), new URLSearchParams('x=1'))).message, /takes none/);
});

void t.test('body: JSON syntax, unknown fields, media types, size-independent checks', async (t) => {
  const jsonRoute = route({
    method: 'POST',
    body: { kind: 'json', schema: object({ name: string(), count: integer({ min: 1 }).optional() }), openapi: {}, required: true, description: '' },
  });
  const bytes = (text: string) => new TextEncoder().encode(text);
  t.same(parseBody(jsonRoute, 'application/json; charset=utf-8', bytes('{"name":"web","count":2}')), { name: 'web', count: 2 });
  t.same(parseBody(jsonRoute, undefined, bytes('{"name":"web"}')), { name: 'web' }, 'no content type: JSON assumed');

  const malformed = caught(() => parseBody(jsonRoute, 'application/json', bytes('{"name": ')));
  t.equal(malformed.code, 'API_BAD_JSON');
  t.equal(malformed.status, 400);
  const unknown = caught(() => parseBody(jsonRoute, 'application/json', bytes('{"name":"web","cuont":2,"count":0}')));
  t.equal(unknown.code, 'API_INVALID_BODY');
  t.matchSnapshot(unknown.problems, 'unknown field and bad value, both reported');
  t.matchSnapshot(unknown.message, 'invalid body message');
  t.equal(caught(() => parseBody(jsonRoute, 'application/json', bytes(''))).code, 'API_BODY_REQUIRED');
  t.equal(caught(() => parseBody(jsonRoute, 'text/plain', bytes('{}'))).status, 415);
  t.equal(caught(() => parseBody(jsonRoute, 'application/json', new Uint8Array([0x7b, 0xff, 0x7d]))).code, 'API_BAD_ENCODING');

  const optional = route({ method: 'POST', body: { kind: 'json', schema: object({}).optional(), openapi: {}, required: false, description: '' } });
  t.equal(parseBody(optional, undefined, bytes('')), undefined, 'an optional body may be empty');
  t.equal(caught(() => parseBody(optional, 'application/json', bytes('[]'))).code, 'API_INVALID_BODY');

  const textRoute = route({ method: 'POST', body: { kind: 'text', mediaTypes: ['application/yaml', 'text/plain'], description: '' } });
  t.equal(parseBody(textRoute, 'application/yaml', bytes('a: 1')), 'a: 1');
  t.equal(caught(() => parseBody(textRoute, 'image/png', bytes('x'))).code, 'API_UNSUPPORTED_MEDIA_TYPE');

  t.equal(caught(() => parseBody(route({}), undefined, bytes('x'))).code, 'API_UNEXPECTED_BODY', 'a route without a body refuses one');
});

void t.test('error bodies: ApiError as is, anything else hidden behind API_INTERNAL', async (t) => {
  const known = errorBody(new ApiError(409, 'API_SHUTTING_DOWN', 'The host is already shutting down'));
  t.same(known, { status: 409, body: { error: { code: errorCode('API_SHUTTING_DOWN'), message: 'The host is already shutting down' } }, headers: {} });
  const withProblems = errorBody(new ApiError(400, 'API_INVALID_BODY', 'Invalid', { problems: [{ path: 'a', line: 0, column: 0, message: 'm' }] }));
  t.same(withProblems.body.error.problems, [{ path: 'a', line: 0, column: 0, message: 'm' }]);
  const internal = errorBody(new Error('ENOENT /secret/path'));
  t.equal(internal.status, 500);
  t.equal(internal.body.error.code, 'API_INTERNAL');
  t.notMatch(internal.body.error.message, /secret/, 'internal details stay in the host log');
});
