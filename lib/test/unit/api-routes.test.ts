/** The API route table's path filling, which the CLI uses for every request. */
import t from 'tap';
import { API_ROUTES, routePath, routeRequest } from '../../api/index.ts';

void t.test('routePath fills parameters URI-encoded and leaves out undefined query values', async (t) => {
  t.equal(routePath(API_ROUTES.getStatus), '/v1/status');
  t.equal(routePath(API_ROUTES.removeImage, { reference: 'docker.io/library/web:1.0' }), '/v1/images/docker.io%2Flibrary%2Fweb%3A1.0');
  t.equal(routePath(API_ROUTES.getContainerLogs, { name: 'web 1' }, { tail: 20, follow: undefined }), '/v1/containers/web%201/logs?tail=20');
  t.equal(routePath(API_ROUTES.getLogs, {}, { tail: 5, follow: '1' }), '/v1/logs?tail=5&follow=1');
  t.same(routeRequest(API_ROUTES.stopContainer, { name: 'db' }), ['POST', '/v1/containers/db/stop']);
  t.throws(() => routePath(API_ROUTES.inspectContainer, {} as { name: string }), /inspectContainer: no value for path parameter 'name'/);
});

void t.test('every route has a unique operation id and method + path', async (t) => {
  const routes = Object.entries(API_ROUTES);
  for (const [key, route] of routes) t.equal(route.operationId, key, `${key} is keyed by its operation id`);
  t.equal(new Set(routes.map(([, r]) => `${r.method} ${r.path}`)).size, routes.length);
});
