/**
 * The management API's routing and request checking, pure: components register their routes
 * (method, path template, query parameters, body, handler, OpenAPI description) under their
 * name; a request's method and URL resolve to one route or a typed ApiError, and its query and
 * body are checked against the route before the handler sees them. The HTTP server (../server.ts)
 * reads sockets and writes responses; this module only decides.
 */
import { BerthError, type ErrorCode } from '../../../../lib/errors.ts';
import { formatProblem, type Problem } from '../../../../lib/config/problems.ts';
import { validate, type Schema } from '../../../../lib/config/validate.ts';
import type { ApiProblem, ErrorBody, HttpMethod } from '../../../../lib/api/index.ts';

export type { ApiProblem, ErrorBody };

export type { HttpMethod };

/** A JSON Schema fragment for the OpenAPI document. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** Largest request body accepted, in bytes (larger ones get 413). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A problem with a request or its handling, sent as `{ "error": { "code", "message", "problems"? } }`. */
export class ApiError extends BerthError {
  readonly status: number;
  readonly problems: readonly ApiProblem[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: ErrorCode, message: string, options: { problems?: readonly ApiProblem[]; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.problems = options.problems;
    this.headers = options.headers ?? {};
  }
}

export function toApiProblem(problem: Problem): ApiProblem {
  return { path: problem.path, line: problem.line, column: problem.column, message: problem.message };
}

/** The error body for any thrown value; unknown errors become API_INTERNAL without their details. */
export function errorBody(error: unknown): { status: number; body: ErrorBody; headers: Readonly<Record<string, string>> } {
  if (error instanceof ApiError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.problems) body.error.problems = [...error.problems];
    return { status: error.status, body, headers: error.headers };
  }
  return {
    status: 500,
    body: { error: { code: 'API_INTERNAL', message: 'The request failed inside the host; the host log (berth ctl logs) has the details' } },
    headers: {},
  };
}

/** A query parameter a route accepts. Unknown parameters are refused. */
export interface QueryParam {
  name: string;
  type: 'integer' | 'boolean' | 'string';
  description: string;
  minimum?: number;
  maximum?: number;
}

export type QueryValue = string | number | boolean;

/** The body a route accepts: a JSON object checked by a schema, or a text (YAML). */
export type RequestBody =
  | { kind: 'json'; schema: Schema<unknown>; openapi: JsonSchema; required: boolean; description: string }
  | { kind: 'text'; mediaTypes: readonly string[]; description: string };

export interface ApiRequest {
  method: HttpMethod;
  path: string;
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, QueryValue>>;
  /** The checked JSON body (undefined when none was sent), or the text for text bodies. */
  body: unknown;
  /** Aborted when the client goes away (ends a follow stream). */
  signal: AbortSignal;
}

/** What a handler answers. `after` runs once the response has been sent (a reboot, say). */
export type ApiResponse =
  | { status: number; json: unknown; after?: () => void }
  | { status: number; text: string; contentType: string }
  | {
      status: number;
      contentType: string;
      /**
       * Writes the body until it resolves. `waitForDrain`, after a write, answers a promise while
       * the client reads slower than the stream is written (then wait, or queue with limits), else
       * undefined.
       */
      stream: (write: (chunk: string) => void, signal: AbortSignal, waitForDrain?: () => Promise<void> | undefined) => Promise<void>;
    };

/** A response described for the OpenAPI document. */
export interface ResponseDoc {
  description: string;
  /** JSON Schema of an application/json body. */
  schema?: JsonSchema;
  /** A non-JSON media type (text/plain for logs). */
  mediaType?: string;
}

export interface ApiRoute {
  method: HttpMethod;
  /** Path template: `/v1/status`, `/v1/containers/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  query?: readonly QueryParam[];
  body?: RequestBody;
  responses: Readonly<Record<number, ResponseDoc>>;
  handler: (request: ApiRequest) => Promise<ApiResponse>;
}

/** A route with the component that registered it. */
export interface RegisteredRoute extends ApiRoute {
  component: string;
  tag: string;
}

const PATH_TEMPLATE = /^(?:\/(?:[a-z0-9][a-z0-9.-]*|\{[a-z_]+\}))+$/;

/** The route table. Components add their routes as they come up; nothing is listed before it exists. */
export class Router {
  private readonly table: RegisteredRoute[] = [];

  /** Adds a component's routes; a duplicate method+path or a bad template is a bug and throws. */
  register(component: string, routes: readonly ApiRoute[], tag = component): void {
    for (const route of routes) {
      if (!PATH_TEMPLATE.test(route.path)) throw new Error(`Route path ${route.path} is not a template like /v1/things/{name}`);
      const clash = this.table.find((r) => r.method === route.method && r.path === route.path);
      if (clash) throw new Error(`Route ${route.method} ${route.path} of ${component} is already registered by ${clash.component}`);
      if (this.table.some((r) => r.operationId === route.operationId)) throw new Error(`Operation id ${route.operationId} is used twice`);
      this.table.push({ ...route, component, tag });
    }
  }

  /** Every registered route, in registration order. */
  routes(): readonly RegisteredRoute[] {
    return this.table;
  }

  /** The route for a method and path, or ApiError 404 (no such path) / 405 (path exists, method does not). */
  resolve(method: string, path: string): { route: RegisteredRoute; params: Record<string, string> } {
    const allowed: string[] = [];
    for (const route of this.table) {
      const params = matchPath(route.path, path);
      if (params === undefined) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      throw new ApiError(405, 'API_METHOD_NOT_ALLOWED', `${path} does not take ${method}; it takes ${allowed.join(', ')}`, {
        headers: { allow: allowed.join(', ') },
      });
    }
    throw new ApiError(404, 'API_NOT_FOUND', `No endpoint ${path}; GET /v1/openapi.json lists the endpoints this host has`);
  }
}

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith('{')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

/** Checks the query string against the route: every problem at once, unknown names refused. */
export function parseQuery(route: ApiRoute, search: URLSearchParams): Record<string, QueryValue> {
  const specs = route.query ?? [];
  const out: Record<string, QueryValue> = {};
  const problems: ApiProblem[] = [];
  const problem = (name: string, message: string): void => {
    problems.push({ path: `query.${name}`, line: 0, column: 0, message });
  };
  for (const [name, raw] of search) {
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      const known = specs.map((s) => s.name);
      problem(name, `unknown parameter${known.length > 0 ? ` (this endpoint takes ${known.join(', ')})` : ' (this endpoint takes none)'}`);
      continue;
    }
    if (name in out) {
      problem(name, 'given more than once');
      continue;
    }
    if (spec.type === 'string') out[name] = raw;
    else if (spec.type === 'boolean') {
      if (['1', 'true', 'yes'].includes(raw)) out[name] = true;
      else if (['0', 'false', 'no'].includes(raw)) out[name] = false;
      else problem(name, `expected 1 or 0 (true or false) but got ${JSON.stringify(raw)}`);
    } else {
      const n = Number(raw);
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n)) problem(name, `expected a whole number but got ${JSON.stringify(raw)}`);
      else if (spec.minimum !== undefined && n < spec.minimum) problem(name, `expected at least ${spec.minimum} but got ${n}`);
      else if (spec.maximum !== undefined && n > spec.maximum) problem(name, `expected at most ${spec.maximum} but got ${n}`);
      else out[name] = n;
    }
  }
  if (problems.length > 0) throw new ApiError(400, 'API_INVALID_QUERY', `Invalid query parameters: ${problems.map(describeProblem).join('; ')}`, { problems });
  return out;
}

function describeProblem(p: ApiProblem): string {
  return p.path === '' ? p.message : `${p.path}: ${p.message}`;
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/**
 * Checks a request body (already read, at most MAX_BODY_BYTES) against the route: the media type,
 * JSON syntax, and the schema (unknown fields are errors, every problem listed with its path).
 */
export function parseBody(route: ApiRoute, contentType: string | undefined, bytes: Uint8Array): unknown {
  const spec = route.body;
  const mediaType = mediaTypeOf(contentType);
  if (!spec) {
    if (bytes.length > 0) throw new ApiError(400, 'API_UNEXPECTED_BODY', `${route.method} ${route.path} takes no request body`);
    return undefined;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, 'API_BAD_ENCODING', 'The request body is not valid UTF-8');
  }
  if (spec.kind === 'text') {
    if (mediaType !== undefined && !spec.mediaTypes.includes(mediaType)) {
      throw new ApiError(415, 'API_UNSUPPORTED_MEDIA_TYPE', `${route.method} ${route.path} takes ${spec.mediaTypes.join(' or ')}, not ${mediaType}`);
    }
    return text;
  }
  if (bytes.length === 0) {
    if (spec.required) throw new ApiError(400, 'API_BODY_REQUIRED', `${route.method} ${route.path} needs a JSON body`);
    return undefined;
  }
  if (mediaType !== undefined && mediaType !== 'application/json') {
    throw new ApiError(415, 'API_UNSUPPORTED_MEDIA_TYPE', `${route.method} ${route.path} takes application/json, not ${mediaType}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, 'API_BAD_JSON', `The request body is not valid JSON: ${detail}`);
  }
  const result = validate(spec.schema, value);
  if (!result.ok) {
    const problems = result.problems.map(toApiProblem);
    const lines = result.problems.map((p) => formatProblem('body', p).replace(/^body: /, ''));
    throw new ApiError(400, 'API_INVALID_BODY', `Invalid request body: ${lines.join('; ')}`, { problems });
  }
  return result.value;
}
