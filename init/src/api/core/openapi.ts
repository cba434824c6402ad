/**
 * The OpenAPI 3.1 document of the management API, made from the registered routes so it
 * lists exactly the endpoints a host has. Pure.
 */
import type { JsonSchema, RegisteredRoute } from './router.ts';

/** The error body's schema, shared by every failure response. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable identifier, e.g. API_INVALID_BODY; scripts match on it' },
        message: { type: 'string', description: 'What went wrong and what to do' },
        problems: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'line', 'column', 'message'],
            properties: {
              path: { type: 'string' },
              line: { type: 'integer', description: '1-based; 0 when unknown' },
              column: { type: 'integer' },
              message: { type: 'string' },
            },
          },
        },
      },
    },
  },
};

/** Failures any endpoint can return, added to every operation. */
const COMMON_ERRORS: Record<string, string> = {
  '400': 'The request is malformed: bad JSON, unknown fields or query parameters, invalid values',
  '404': 'No such endpoint or object',
  '405': 'The path exists but not with this method',
  '413': 'The request body is larger than 1 MiB',
  '415': 'The request body has a media type the endpoint does not take',
  '500': 'The host failed to handle the request; its log has the details',
};

/** Builds the document. `version` is the berth version of the host. */
export function buildOpenApiDocument(routes: readonly RegisteredRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(route.responses)) {
      const content = doc.mediaType ? { [doc.mediaType]: { schema: { type: 'string' } } } : doc.schema ? { 'application/json': { schema: doc.schema } } : undefined;
      responses[status] = content ? { description: doc.description, content } : { description: doc.description };
    }
    for (const [status, description] of Object.entries(COMMON_ERRORS)) {
      if (status === '413' || status === '415') {
        if (!route.body) continue;
      }
      responses[status] ??= { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    const parameters = [
      ...[...route.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...(route.query ?? []).map((q) => ({
        name: q.name,
        in: 'query',
        required: false,
        description: q.description,
        schema: {
          type: q.type,
          ...(q.minimum === undefined ? {} : { minimum: q.minimum }),
          ...(q.maximum === undefined ? {} : { maximum: q.maximum }),
        },
      })),
    ];
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      responses,
    };
    if (route.body?.kind === 'json') {
      operation.requestBody = { required: route.body.required, description: route.body.description, content: { 'application/json': { schema: route.body.openapi } } };
    } else if (route.body?.kind === 'text') {
      operation.requestBody = {
        required: true,
        description: route.body.description,
        content: Object.fromEntries(route.body.mediaTypes.map((type) => [type, { schema: { type: 'string' } }])),
      };
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'berth management API',
      version,
      description:
        'Served by a berth host on its Unix socket /run/berth/api.sock (root only) and, when the machine config lists `api.listen`, over TCP with mutual TLS: a client certificate issued by the CA in `api.client_ca` is required. Errors are `{ "error": { "code", "message" } }`.',
    },
    servers: [{ url: 'https://{host}:7443', variables: { host: { default: 'localhost' } } }],
    security: [{ clientCertificate: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: { clientCertificate: { type: 'mutualTLS', description: 'A client certificate issued by the CA in the machine config `api.client_ca` (berth keys api client)' } },
    },
  };
}
