/**
 * The image endpoints: list, pull (progress streamed as NDJSON events), remove (refused while a
 * container uses the image) and prune. Pure: the image store is reached through ImageControl
 * (runtime's Engine behind ../container-engine.ts; a fake in tests).
 */
import { describeError, isBerthError } from '../../../../lib/errors.ts';
import { object, string } from '../../../../lib/config/validate.ts';
import { callEngine, engineError, NDJSON } from './container-routes.ts';
import { parseReference } from '../../../../runtime/src/index.ts';
import { API_ROUTES, type ImageList, type ImageSummary, type PullProgressEvent, type PullStreamEvent, type RemovalResult } from '../../../../lib/api/index.ts';
import { ApiError, type JsonSchema, type Router } from './router.ts';

export type { ImageSummary, PullProgressEvent, RemovalResult };

/** What the endpoints need of the image store. */
export interface ImageControl {
  listImages(): Promise<ImageSummary[]>;
  pull(reference: string, onProgress: (progress: Omit<PullProgressEvent, 'event'>) => void): Promise<ImageSummary>;
  /** RUNTIME_IMAGE_IN_USE while a container names it, RUNTIME_IMAGE_NOT_FOUND if not held. */
  remove(reference: string): Promise<RemovalResult>;
  prune(): Promise<RemovalResult>;
}

const IMAGE_PROPERTIES: Record<string, JsonSchema> = {
  reference: { type: 'string', description: 'Canonical reference, e.g. docker.io/library/web:latest' },
  digest: { type: 'string', description: 'The manifest digest' },
  config_digest: { type: 'string' },
  size_bytes: { type: 'integer', description: 'Manifest, config and layers as stored (compressed)' },
  created: { type: ['string', 'null'], format: 'date-time' },
  preloaded: { type: 'boolean', description: 'Preloaded by the image-builder; prune keeps it' },
  used_by: { type: 'array', items: { type: 'string' }, description: 'Containers whose image it is' },
};
export const IMAGE_SCHEMA: JsonSchema = { type: 'object', required: Object.keys(IMAGE_PROPERTIES), properties: IMAGE_PROPERTIES };
export const REMOVAL_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['removed_images', 'removed_blobs', 'removed_layers', 'freed_bytes'],
  properties: {
    removed_images: { type: 'array', items: { type: 'string' } },
    removed_blobs: { type: 'integer' },
    removed_layers: { type: 'integer' },
    freed_bytes: { type: 'integer' },
  },
};
const pullBody = object({ reference: string({ minLength: 1, maxLength: 1024 }) });
const PULL_BODY_DOC: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['reference'],
  properties: { reference: { type: 'string', description: 'registry[:port]/repository[:tag|@digest]; Docker Hub names like busybox work too' } },
};

/** Registers the image endpoints (component `images`). */
export function registerImageRoutes(router: Router, images: ImageControl): void {
  router.register('images', [
    {
      ...API_ROUTES.listImages,
      summary: 'The images this host holds: reference, digest, size, creation time, the containers using each',
      responses: { 200: { description: 'Every image reference, sorted', schema: { type: 'object', required: ['images'], properties: { images: { type: 'array', items: IMAGE_SCHEMA } } } } },
      handler: async () => ({ status: 200, json: { images: await callEngine(() => images.listImages()) } satisfies ImageList }),
    },
    {
      ...API_ROUTES.pullImage,
      summary: 'Pull an image from its registry, with progress',
      description:
        'Streams newline-delimited JSON events: `{"event":"progress","digest","kind":"config|layer","done_bytes","total_bytes","status":"downloading|done|exists"}` while blobs download, then one `{"event":"pulled","image":{...}}` or `{"event":"error","error":{"code","message"}}` (the status is 200 once the stream has begun). Registries and their credentials come from `registries:` in the machine config.',
      body: { kind: 'json', schema: pullBody, openapi: PULL_BODY_DOC, required: true, description: 'What to pull' },
      responses: { 200: { description: 'Progress events, then the result', mediaType: NDJSON } },
      handler: (request) => {
        const { reference } = request.body as { reference: string };
        try {
          // Checked before the 200 is sent: a malformed reference is a 400, not an error event.
          parseReference(reference);
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          return Promise.reject(new ApiError(400, 'API_INVALID_BODY', `Invalid request body: reference: ${why}`, { problems: [{ path: 'reference', line: 0, column: 0, message: why }] }));
        }
        return Promise.resolve({
          status: 200,
          contentType: NDJSON,
          stream: async (write) => {
            const send = (event: PullStreamEvent): void => write(`${JSON.stringify(event)}\n`);
            try {
              const image = await images.pull(reference, (progress) => send({ event: 'progress', ...progress }));
              send({ event: 'pulled', image });
            } catch (error) {
              const mapped = engineError(error);
              send({
                event: 'error',
                error: isBerthError(mapped) ? { code: mapped.code, message: mapped.message } : { code: 'API_INTERNAL', message: `The pull failed inside the host: ${describeError(error)}` },
              });
            }
          },
        });
      },
    },
    {
      ...API_ROUTES.removeImage,
      summary: 'Remove an image no container uses, and the blobs and layers only it needed',
      description: 'The reference is URL-encoded in the path (`/` as %2F). Containers name their image in the machine config: change the config before removing an image in use.',
      responses: {
        200: { description: 'Removed', schema: REMOVAL_SCHEMA },
        404: { description: 'No such image on this host' },
        409: { description: 'A container uses the image' },
      },
      handler: async (request) => ({ status: 200, json: await callEngine(() => images.remove(request.params.reference ?? '')) }),
    },
    {
      ...API_ROUTES.pruneImages,
      summary: 'Remove pulled images no container uses, and every blob and layer no kept image needs',
      description: 'Preloaded images are kept (they cannot be pulled again); remove one explicitly with DELETE /v1/images/{reference}.',
      responses: { 200: { description: 'What was removed and the bytes freed', schema: REMOVAL_SCHEMA } },
      handler: async () => ({ status: 200, json: await callEngine(() => images.prune()) }),
    },
  ]);
}
