/**
 * The management API's route table: every endpoint's method, path template and operation id,
 * shared by the server in init (which registers a handler and its OpenAPI description for each)
 * and the client in cli (which fills the templates). Pure.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One endpoint: method, path template (`/v1/containers/{name}`) and the OpenAPI operation id. */
export interface RouteKey {
  readonly method: HttpMethod;
  readonly path: string;
  readonly operationId: string;
}

const route = <M extends HttpMethod, P extends string, O extends string>(method: M, path: P, operationId: O) => ({ method, path, operationId }) as const;

/** Every endpoint of the API, keyed by operation id. */
export const API_ROUTES = {
  getStatus: route('GET', '/v1/status', 'getStatus'),
  getLogs: route('GET', '/v1/logs', 'getLogs'),
  getConfig: route('GET', '/v1/config', 'getConfig'),
  validateConfig: route('POST', '/v1/config/validate', 'validateConfig'),
  planConfig: route('POST', '/v1/config/plan', 'planConfig'),
  applyConfig: route('POST', '/v1/config/apply', 'applyConfig'),
  tryConfig: route('POST', '/v1/config/try', 'tryConfig'),
  getConfigTry: route('GET', '/v1/config/try', 'getConfigTry'),
  confirmConfig: route('POST', '/v1/config/confirm', 'confirmConfig'),
  powerReboot: route('POST', '/v1/power/reboot', 'powerReboot'),
  powerOff: route('POST', '/v1/power/poweroff', 'powerOff'),
  getOpenApi: route('GET', '/v1/openapi.json', 'getOpenApi'),
  listContainers: route('GET', '/v1/containers', 'listContainers'),
  inspectContainer: route('GET', '/v1/containers/{name}', 'inspectContainer'),
  getContainerLogs: route('GET', '/v1/containers/{name}/logs', 'getContainerLogs'),
  startContainer: route('POST', '/v1/containers/{name}/start', 'startContainer'),
  stopContainer: route('POST', '/v1/containers/{name}/stop', 'stopContainer'),
  restartContainer: route('POST', '/v1/containers/{name}/restart', 'restartContainer'),
  execContainer: route('POST', '/v1/containers/{name}/exec', 'execContainer'),
  listImages: route('GET', '/v1/images', 'listImages'),
  pullImage: route('POST', '/v1/images/pull', 'pullImage'),
  removeImage: route('DELETE', '/v1/images/{reference}', 'removeImage'),
  pruneImages: route('POST', '/v1/images/prune', 'pruneImages'),
  getUpdate: route('GET', '/v1/update', 'getUpdate'),
  checkUpdate: route('POST', '/v1/update/check', 'checkUpdate'),
  applyUpdate: route('POST', '/v1/update/apply', 'applyUpdate'),
  approveUpdate: route('POST', '/v1/update/approve', 'approveUpdate'),
} as const satisfies Record<string, RouteKey>;

export type RouteName = keyof typeof API_ROUTES;

/** The `{name}` parameters of a path template. */
type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | PathParams<Rest> : never;

/** A request's query: entries whose value is undefined are left out. */
export type RouteQuery = Readonly<Record<string, string | number | boolean | undefined>>;

/** What filling `R`'s template takes: a value for each `{param}` (nothing when it has none), and a query. */
export type RouteArgs<R extends RouteKey> = [PathParams<R['path']>] extends [never]
  ? [params?: Readonly<Record<string, never>>, query?: RouteQuery]
  : [params: Readonly<Record<PathParams<R['path']>, string>>, query?: RouteQuery];

/** The request path of `route`: each `{param}` replaced by its URI-encoded value, then the query. */
export function routePath<R extends RouteKey>(route: R, ...[params, query]: RouteArgs<R>): string {
  const values: Readonly<Record<string, string>> = params ?? {};
  const path = route.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    // The types demand every parameter; this guards callers that cast.
    if (value === undefined) throw new Error(`${route.operationId}: no value for path parameter '${name}'`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** `[method, path]` of a request to `route`, to spread into a client's request call. */
export function routeRequest<R extends RouteKey>(route: R, ...args: RouteArgs<R>): [R['method'], string] {
  return [route.method, routePath(route, ...args)];
}
