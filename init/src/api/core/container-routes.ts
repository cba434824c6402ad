/**
 * The container endpoints: list, inspect, logs (tail and follow, NDJSON), start, stop, restart
 * and exec. Pure: the engine is reached through ContainerControl (runtime's Engine behind
 * ../container-engine.ts; a fake in tests), and its typed errors become HTTP statuses here.
 */
import { isBerthError } from '../../../../lib/errors.ts';
import { array, integer, object, string } from '../../../../lib/config/validate.ts';
import { FOLLOWER_PENDING_MAX_BYTES, runFollower, sharedFollowerLimits, untilAborted, type FollowerLimits } from './follow.ts';
import { API_ROUTES, type ContainerActionAnswer, type ContainerDetail, type ContainerList, type ContainerSummary, type ExecAnswer } from '../../../../lib/api/index.ts';
import { ApiError, type ApiRoute, type JsonSchema, type Router } from './router.ts';

export type { ContainerDetail, ContainerSummary };

/** What the endpoints need of the container engine. Unknown names throw RUNTIME_CONTAINER_NOT_FOUND. */
export interface ContainerControl {
  list(): ContainerSummary[];
  inspect(name: string): ContainerDetail;
  start(name: string): Promise<{ changed: boolean }>;
  stop(name: string): Promise<{ changed: boolean }>;
  restart(name: string): Promise<{ changed: boolean }>;
  /** Keeps `maxOutputBytes` of each stream; `dropped` counts what was drained past it. */
  exec(name: string, argv: readonly string[], timeoutMs: number, maxOutputBytes: number): Promise<{ exitCode: number; stdout: string; stderr: string; dropped?: { stdout: number; stderr: number } }>;
  /** The last `count` json-file records (each a JSON line ending in \n); with onRecord, every later one until `signal` aborts. */
  readLog(name: string, count: number, onRecord?: (record: string) => void, signal?: AbortSignal): Promise<string[]>;
}

/** Default and largest ?tail= of a container's logs. */
export const CONTAINER_LOG_TAIL_DEFAULT = 100;
export const CONTAINER_LOG_TAIL_MAX = 100_000;
/** exec's default and largest timeout, seconds. */
export const EXEC_TIMEOUT_DEFAULT_S = 60;
export const EXEC_TIMEOUT_MAX_S = 3600;
/** exec output kept per stream (stdout, stderr); the rest is drained and counted, the answer says it was truncated. */
export const EXEC_OUTPUT_MAX_BYTES = 1024 * 1024;

/** The engine's typed failures as API errors; anything else is passed on (a 500). */
export function engineError(error: unknown): unknown {
  if (!isBerthError(error)) return error;
  const status: Record<string, number> = {
    RUNTIME_CONTAINER_NOT_FOUND: 404,
    RUNTIME_IMAGE_NOT_FOUND: 404,
    RUNTIME_REGISTRY_NOT_FOUND: 404,
    RUNTIME_CONTAINER_NOT_RUNNING: 409,
    RUNTIME_IMAGE_IN_USE: 409,
    RUNTIME_REFERENCE_INVALID: 400,
    RUNTIME_SPEC_INVALID: 400,
    RUNTIME_NOT_STARTED: 503,
    RUNTIME_REGISTRY_AUTH: 502,
    RUNTIME_REGISTRY_UNREACHABLE: 502,
    RUNTIME_REGISTRY_FAILED: 502,
    EXEC_TIMEOUT: 504,
  };
  const code = status[error.code];
  return code === undefined ? error : new ApiError(code, error.code, error.message, { cause: error });
}

/** Runs an engine call, turning its typed failures into API errors. */
export async function callEngine<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw engineError(error);
  }
}

const SUMMARY_PROPERTIES: Record<string, JsonSchema> = {
  name: { type: 'string' },
  image: { type: 'string', description: 'The image reference as declared' },
  state: { type: 'string', enum: ['waiting', 'preparing', 'running', 'restarting', 'exited', 'failed', 'stopped'] },
  health: { type: ['string', 'null'], enum: ['starting', 'healthy', 'unhealthy', null] },
  restarts: { type: 'integer', description: 'Restarts by the restart policy since boot' },
  pid: { type: ['integer', 'null'], description: 'crun\'s pid while running' },
  started_at: { type: ['string', 'null'], format: 'date-time' },
  exit_code: { type: ['integer', 'null'], description: 'Of the last run that ended' },
  critical: { type: 'boolean', description: 'x-berth critical: the boot is judged by it' },
  error: { type: ['string', 'null'], description: 'Why it failed (state failed)' },
  ports: { type: 'array', items: { type: 'string' }, description: 'Published ports as declared' },
  network_mode: { type: 'string' },
  addresses: { type: 'array', items: { type: 'string' }, description: 'Addresses on the container bridge' },
};

export const CONTAINER_SUMMARY_SCHEMA: JsonSchema = { type: 'object', required: Object.keys(SUMMARY_PROPERTIES), properties: SUMMARY_PROPERTIES };
export const CONTAINER_DETAIL_SCHEMA: JsonSchema = {
  type: 'object',
  required: [...Object.keys(SUMMARY_PROPERTIES), 'config'],
  properties: { ...SUMMARY_PROPERTIES, config: { type: 'object', description: 'The container as the machine config declares it, defaults filled in' } },
};
const ACTION_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['name', 'changed', 'state'],
  properties: {
    name: { type: 'string' },
    changed: { type: 'boolean', description: 'False when it already was in the asked state' },
    state: { type: 'string' },
  },
};
const EXEC_BODY_DOC: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['argv'],
  properties: {
    argv: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'The command and its arguments (no shell)' },
    timeout_s: { type: 'integer', minimum: 1, maximum: EXEC_TIMEOUT_MAX_S, description: `Kill it after this long (default ${EXEC_TIMEOUT_DEFAULT_S})` },
  },
};
const execBody = object({ argv: array(string({ minLength: 1 }), { minItems: 1, maxItems: 4096 }), timeout_s: integer({ min: 1, max: EXEC_TIMEOUT_MAX_S }).optional() });

/** The ndjson media type of log records and pull progress. */
export const NDJSON = 'application/x-ndjson';

/** The last line of a follow stream whose client read too slowly (an NDJSON object like the records). */
export function followerDroppedLine(name: string): string {
  return `${JSON.stringify({ error: { code: 'API_FOLLOWER_TOO_SLOW', message: `Stopped following container ${name}: the client fell more than ${FOLLOWER_PENDING_MAX_BYTES / 1024 / 1024} MiB behind; follow again (with a tail) to resume` } })}\n`;
}

/** Registers the container endpoints (component `containers`); `followers` limits the open follow streams. */
export function registerContainerRoutes(router: Router, engine: ContainerControl, followers: FollowerLimits = sharedFollowerLimits()): void {
  const notFound = { description: 'No container of that name' };
  const action = (verb: 'start' | 'stop' | 'restart', summary: string, description: string): ApiRoute => ({
    ...API_ROUTES[`${verb}Container`],
    summary,
    description,
    responses: { 200: { description: 'Done; `changed` says whether anything happened', schema: ACTION_SCHEMA }, 404: notFound, 503: { description: 'The engine has not started yet' } },
    handler: async (request) => {
      const name = request.params.name ?? '';
      const { changed } = await callEngine(() => engine[verb](name));
      const json: ContainerActionAnswer = { name, changed, state: engine.inspect(name).state };
      return { status: 200, json };
    },
  });
  router.register('containers', [
    {
      ...API_ROUTES.listContainers,
      summary: 'The containers of the machine config and their state',
      responses: {
        200: { description: 'Every container, in config order', schema: { type: 'object', required: ['containers'], properties: { containers: { type: 'array', items: CONTAINER_SUMMARY_SCHEMA } } } },
      },
      handler: async () => ({ status: 200, json: { containers: await callEngine(() => engine.list()) } satisfies ContainerList }),
    },
    {
      ...API_ROUTES.inspectContainer,
      summary: 'One container: config as declared, state, pid, restarts, health, ports, addresses, start time',
      responses: { 200: { description: 'The container', schema: CONTAINER_DETAIL_SCHEMA }, 404: notFound },
      handler: async (request) => ({ status: 200, json: await callEngine(() => engine.inspect(request.params.name ?? '')) }),
    },
    {
      ...API_ROUTES.getContainerLogs,
      summary: 'A container\'s output: the last N records, optionally followed',
      description:
        'Docker json-file records, one JSON object per line: `log` (the text with its newline), `stream` (stdout or stderr), `time`. With follow, records are sent as the container writes them until the client disconnects.',
      query: [
        { name: 'tail', type: 'integer', minimum: 0, maximum: CONTAINER_LOG_TAIL_MAX, description: `How many of the last records (default ${CONTAINER_LOG_TAIL_DEFAULT})` },
        { name: 'follow', type: 'boolean', description: 'Keep the response open and send records as they are written' },
      ],
      responses: {
        200: {
          description: `Newline-delimited json-file records. A follower that falls more than ${FOLLOWER_PENDING_MAX_BYTES / 1024 / 1024} MiB behind gets a last line {"error":{"code":"API_FOLLOWER_TOO_SLOW",...}} and the stream ends`,
          mediaType: NDJSON,
        },
        404: notFound,
        429: { description: `Too many follow streams: at most ${followers.perKey} per container and ${followers.totalMax} in all` },
      },
      handler: async (request) => {
        const name = request.params.name ?? '';
        const count = typeof request.query.tail === 'number' ? request.query.tail : CONTAINER_LOG_TAIL_DEFAULT;
        if (request.query.follow !== true) {
          const records = await callEngine(() => engine.readLog(name, count));
          return { status: 200, text: records.join(''), contentType: NDJSON };
        }
        // Checked before the 200 is sent: an unknown name is a 404, not an empty stream.
        await callEngine(() => engine.inspect(name));
        const release = followers.acquire(name, `Container ${name}`);
        return {
          status: 200,
          contentType: NDJSON,
          stream: (write, signal, waitForDrain) =>
            // A dropped follower's listening signal aborts: the engine forgets its listener.
            runFollower({ write, waitForDrain, signal, finalLine: followerDroppedLine(name), release }, async (emit, listening) => {
              // Records that arrive before the tail has been sent wait, so the order holds.
              let early: string[] | undefined = [];
              const initial = await engine.readLog(name, count, (record) => (early === undefined ? emit(record) : early.push(record)), listening);
              const first = [...initial, ...early].join('');
              early = undefined;
              emit(first);
              await untilAborted(listening);
            }),
        };
      },
    },
    action('start', 'Start a stopped, exited or failed container', 'It runs under its restart policy again. A container that is already running (or restarting) is left alone: changed is false.'),
    action('stop', 'Stop a container', 'Its stop signal, then SIGKILL after its stop_grace_period. It stays stopped, whatever its restart policy, until started or the host reboots.'),
    action('restart', 'Stop a container (if running) and start it again', 'Answers once it has been started again (it may still be preparing).'),
    {
      ...API_ROUTES.execContainer,
      summary: 'Run a command in a running container, as its own process runs (user, environment, capabilities)',
      description: `Not interactive: no stdin, no terminal. Answers when the command ends, with its exit code and output (the first ${EXEC_OUTPUT_MAX_BYTES / 1024 / 1024} MiB of each stream; the rest is read and dropped, and truncated says so). On timeout the command and everything it started in the container are killed.`,
      body: { kind: 'json', schema: execBody, openapi: EXEC_BODY_DOC, required: true, description: 'The command' },
      responses: {
        200: {
          description: 'The command ended (whatever its exit code)',
          schema: {
            type: 'object',
            required: ['exit_code', 'stdout', 'stderr', 'truncated', 'stdout_dropped_bytes', 'stderr_dropped_bytes'],
            properties: {
              exit_code: { type: 'integer' },
              stdout: { type: 'string', description: `The first ${EXEC_OUTPUT_MAX_BYTES / 1024 / 1024} MiB of its standard output` },
              stderr: { type: 'string', description: `The first ${EXEC_OUTPUT_MAX_BYTES / 1024 / 1024} MiB of its standard error` },
              truncated: { type: 'boolean', description: 'True when either stream wrote more than was kept' },
              stdout_dropped_bytes: { type: 'integer', description: 'Standard output bytes read past the limit and dropped' },
              stderr_dropped_bytes: { type: 'integer', description: 'Standard error bytes read past the limit and dropped' },
            },
          },
        },
        404: notFound,
        409: { description: 'The container is not running' },
        504: { description: 'The command did not end within timeout_s' },
      },
      handler: async (request) => {
        const body = request.body as { argv: string[]; timeout_s?: number };
        const result = await callEngine(() => engine.exec(request.params.name ?? '', body.argv, (body.timeout_s ?? EXEC_TIMEOUT_DEFAULT_S) * 1000, EXEC_OUTPUT_MAX_BYTES));
        const dropped = result.dropped ?? { stdout: 0, stderr: 0 };
        return {
          status: 200,
          json: {
            exit_code: result.exitCode,
            stdout: result.stdout,
            stderr: result.stderr,
            truncated: dropped.stdout > 0 || dropped.stderr > 0,
            stdout_dropped_bytes: dropped.stdout,
            stderr_dropped_bytes: dropped.stderr,
          } satisfies ExecAnswer,
        };
      },
    },
  ]);
}
