/**
 * The host's own endpoints: status, host logs, config (get, validate), power, and the OpenAPI
 * document. Pure: the host's facts come through the HostView, HostProbe and HostLogs interfaces
 * that init and ../probe.ts implement.
 */
import { loadMachineConfig, type MachineConfig } from '../../../../lib/config/machine-config.ts';
import { ConfigError } from '../../../../lib/config/problems.ts';
import { object } from '../../../../lib/config/validate.ts';
import { FOLLOWER_PENDING_MAX_BYTES, runFollower, sharedFollowerLimits, type FollowerLimits } from './follow.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { API_ROUTES, type ConfigBody, type ConfigValidation, type PowerAnswer, type CpuInfo, type DiskInfo, type HostStatus, type InitProcessInfo, type InterfaceInfo, type MemoryInfo } from '../../../../lib/api/index.ts';
import { ApiError, toApiProblem, type ApiRoute, type JsonSchema, type Router } from './router.ts';

export type { ConfigValidation, CpuInfo, DiskInfo, HostStatus, InitProcessInfo, InterfaceInfo, MemoryInfo };

/** What the status asks the machine (systeminformation in ../probe.ts; a fake in tests). */
export interface HostProbe {
  uptimeSeconds(): Promise<number>;
  cpu(): Promise<CpuInfo>;
  memory(): Promise<MemoryInfo>;
  disks(): Promise<DiskInfo[]>;
  interfaces(): Promise<InterfaceInfo[]>;
}

/** init's side of the API: what it knows and what it can be asked to do. */
export interface HostView {
  /** berth version and slot of this boot, undefined before the boot identity is read. */
  identity(): { version: string; slot: string } | undefined;
  /** booting | running | failed | shutting-down */
  state(): string;
  hostname(): string;
  /** The config in force and where it came from. */
  config(): { config: MachineConfig; source: string; origin: string };
  /** Starts an orderly shutdown ending in `action`; returns at once. */
  requestPower(action: 'reboot' | 'poweroff'): void;
  /** init's own process: restarts by berth-pid1 and memory (absent: reported as a first start, RSS unknown). */
  initProcess?(): InitProcessInfo;
}

/** The host log (/var/log/berth/init.log). */
export interface HostLogs {
  /** The last `count` lines. */
  tail(count: number): Promise<string[]>;
  /** Calls `onLine` for each line appended from now on, until `signal` aborts. */
  follow(onLine: (line: string) => void, signal: AbortSignal): Promise<void>;
}

export interface HostRouteDeps {
  /** Limits of follow streams (default: the API's shared ones). */
  followers?: FollowerLimits;
  host: HostView;
  probe: HostProbe;
  logs: HostLogs;
  now: () => Date;
  /** Version of the API document (the berth version of the bundle). */
  apiVersion: string;
}

/** Default and largest ?tail= of GET /v1/logs. */
export const LOG_TAIL_DEFAULT = 200;
export const LOG_TAIL_MAX = 100_000;

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['path', 'line', 'column', 'message'],
  properties: { path: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' }, message: { type: 'string' } },
};

export const STATUS_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['version', 'slot', 'state', 'hostname', 'boot_time', 'uptime_s', 'init', 'cpu', 'memory', 'disks', 'interfaces', 'warnings'],
  properties: {
    version: { type: 'string' },
    slot: { type: 'string', enum: ['a', 'b', 'unknown'] },
    state: { type: 'string', enum: ['booting', 'running', 'failed', 'shutting-down'] },
    hostname: { type: 'string' },
    boot_time: { type: ['string', 'null'], format: 'date-time' },
    uptime_s: { type: ['number', 'null'] },
    init: {
      type: ['object', 'null'],
      description: "init's Node (PID 2 under berth-pid1): restarts since boot, why the last one ended, its memory",
      properties: {
        pid: { type: 'integer' },
        restarts: { type: 'integer' },
        last_restart_reason: { type: ['string', 'null'] },
        rss_bytes: { type: 'integer' },
        heap_used_bytes: { type: 'integer' },
      },
    },
    cpu: {
      type: ['object', 'null'],
      properties: { model: { type: 'string' }, cores: { type: 'integer' }, load_percent: { type: 'number' }, load_average: { type: 'array', items: { type: 'number' } } },
    },
    memory: {
      type: ['object', 'null'],
      properties: { total_bytes: { type: 'integer' }, used_bytes: { type: 'integer' }, available_bytes: { type: 'integer' } },
    },
    disks: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        properties: { mount: { type: 'string' }, device: { type: 'string' }, fs_type: { type: 'string' }, size_bytes: { type: 'integer' }, used_bytes: { type: 'integer' } },
      },
    },
    interfaces: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, mac: { type: 'string' }, up: { type: 'boolean' }, addresses: { type: 'array', items: { type: 'string' } } },
      },
    },
    warnings: { type: 'array', items: { type: 'string' }, description: 'Facts that could not be gathered (their field is null)' },
  },
};

/** Gathers the status; a probe that fails leaves its field null and adds a warning. */
export async function collectStatus(deps: Pick<HostRouteDeps, 'host' | 'probe' | 'now'>): Promise<HostStatus> {
  const warnings: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (error) {
      warnings.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  };
  const [uptime, cpu, memory, disks, interfaces] = await Promise.all([
    attempt('uptime', () => deps.probe.uptimeSeconds()),
    attempt('cpu', () => deps.probe.cpu()),
    attempt('memory', () => deps.probe.memory()),
    attempt('disks', () => deps.probe.disks()),
    attempt('interfaces', () => deps.probe.interfaces()),
  ]);
  const identity = deps.host.identity();
  const now = deps.now();
  return {
    version: identity?.version ?? 'unknown',
    slot: identity?.slot ?? 'unknown',
    state: deps.host.state(),
    hostname: deps.host.hostname(),
    boot_time: uptime === null ? null : new Date(Math.round(now.getTime() - uptime * 1000)).toISOString(),
    uptime_s: uptime === null ? null : Math.round(uptime * 10) / 10,
    init: deps.host.initProcess?.() ?? null,
    cpu,
    memory,
    disks,
    interfaces,
    warnings,
  };
}

/** The config as the API shows it: PEM private keys given inline are replaced by a marker. */
export function redactConfig(config: MachineConfig): MachineConfig {
  const key = config.api.server_key;
  if (key === undefined || !key.startsWith('-----BEGIN')) return config;
  return { ...config, api: { ...config.api, server_key: '<redacted>' } };
}

/** Validates a machine config text as a boot would. */
export function validateConfigText(text: string): ConfigValidation {
  try {
    const { warnings } = loadMachineConfig(text, 'request');
    return { valid: true, problems: [], warnings: warnings.map(toApiProblem) };
  } catch (error) {
    if (error instanceof ConfigError) return { valid: false, problems: error.problems.map(toApiProblem), warnings: error.warnings.map(toApiProblem) };
    throw error;
  }
}

const powerBody = object({}).optional();
const POWER_BODY_DOC: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };
const POWER_RESPONSE: JsonSchema = {
  type: 'object',
  required: ['action', 'message'],
  properties: { action: { type: 'string', enum: ['reboot', 'poweroff'] }, message: { type: 'string' } },
};

function powerRoute(action: 'reboot' | 'poweroff', deps: HostRouteDeps): ApiRoute {
  const verb = action === 'reboot' ? 'Reboot' : 'Power off';
  return {
    ...(action === 'reboot' ? API_ROUTES.powerReboot : API_ROUTES.powerOff),
    summary: `${verb} the host in order`,
    description: 'Stops the containers and host daemons, closes the log, unmounts the writable file systems, then the power action. Answers 202 before the shutdown starts.',
    body: { kind: 'json', schema: powerBody, openapi: POWER_BODY_DOC, required: false, description: 'Empty, or an empty JSON object' },
    responses: { 202: { description: 'The shutdown has been started', schema: POWER_RESPONSE }, 409: { description: 'A shutdown is already under way' } },
    handler: () => {
      if (deps.host.state() === 'shutting-down') {
        return Promise.reject(new ApiError(409, 'API_SHUTTING_DOWN', 'The host is already shutting down'));
      }
      return Promise.resolve({
        status: 202,
        json: { action, message: action === 'reboot' ? 'Rebooting' : 'Powering off' } satisfies PowerAnswer,
        after: () => deps.host.requestPower(action),
      });
    },
  };
}

/** The last line of a host log follower that read too slowly. */
export const HOST_FOLLOWER_DROPPED_LINE = `level=error component=api code=API_FOLLOWER_TOO_SLOW msg="Stopped following the host log: the client fell more than ${FOLLOWER_PENDING_MAX_BYTES / 1024 / 1024} MiB behind; follow again (with a tail) to resume"\n`;

/** Registers the host endpoints (component `host`) and the OpenAPI document. */
export function registerHostRoutes(router: Router, deps: HostRouteDeps): void {
  const followers = deps.followers ?? sharedFollowerLimits();
  router.register('host', [
    {
      ...API_ROUTES.getStatus,
      summary: 'Host status: version, slot, boot time, uptime, CPU, memory, disks, network interfaces',
      responses: { 200: { description: 'The status', schema: STATUS_SCHEMA } },
      handler: async () => ({ status: 200, json: await collectStatus(deps) }),
    },
    {
      ...API_ROUTES.getLogs,
      summary: 'Host log lines (logfmt), the last N, optionally followed',
      query: [
        { name: 'tail', type: 'integer', minimum: 0, maximum: LOG_TAIL_MAX, description: `How many of the last lines (default ${LOG_TAIL_DEFAULT})` },
        { name: 'follow', type: 'boolean', description: 'Keep the response open and send lines as they are written' },
      ],
      responses: {
        200: {
          description: `One logfmt line per event. A follower that falls more than ${FOLLOWER_PENDING_MAX_BYTES / 1024 / 1024} MiB behind gets a last line with code=API_FOLLOWER_TOO_SLOW and the stream ends`,
          mediaType: 'text/plain',
        },
        429: { description: `Too many follow streams: at most ${followers.perKey} of the host log and ${followers.totalMax} in all` },
      },
      handler: async (request) => {
        const count = typeof request.query.tail === 'number' ? request.query.tail : LOG_TAIL_DEFAULT;
        const lines = count === 0 ? [] : await deps.logs.tail(count);
        const initial = lines.map((line) => `${line}\n`).join('');
        if (request.query.follow !== true) return { status: 200, text: initial, contentType: 'text/plain; charset=utf-8' };
        const release = followers.acquire('host', 'The host log');
        return {
          status: 200,
          contentType: 'text/plain; charset=utf-8',
          stream: (write, signal, waitForDrain) =>
            runFollower({ write, waitForDrain, signal, finalLine: HOST_FOLLOWER_DROPPED_LINE, release }, async (emit, listening) => {
              emit(initial);
              await deps.logs.follow((line) => emit(`${line}\n`), listening);
            }),
        };
      },
    },
    {
      ...API_ROUTES.getConfig,
      summary: 'The machine config in force, with every default filled in',
      responses: {
        200: {
          description: 'The config and where it came from (fw_cfg, the saved copy, or defaults); inline private keys are redacted',
          schema: { type: 'object', required: ['source', 'origin', 'config'], properties: { source: { type: 'string' }, origin: { type: 'string' }, config: { type: 'object' } } },
        },
      },
      handler: () => {
        const { config, source, origin } = deps.host.config();
        return Promise.resolve({ status: 200, json: { source, origin, config: redactConfig(config) } satisfies ConfigBody });
      },
    },
    {
      ...API_ROUTES.validateConfig,
      summary: 'Check a machine config text without applying it',
      body: { kind: 'text', mediaTypes: ['application/yaml', 'text/yaml', 'application/x-yaml', 'text/plain'], description: 'The machine config, YAML' },
      responses: {
        200: {
          description: 'Whether the config is valid, with every problem (path, line, column) and warning',
          schema: {
            type: 'object',
            required: ['valid', 'problems', 'warnings'],
            properties: { valid: { type: 'boolean' }, problems: { type: 'array', items: PROBLEM_SCHEMA }, warnings: { type: 'array', items: PROBLEM_SCHEMA } },
          },
        },
      },
      handler: (request) => Promise.resolve({ status: 200, json: validateConfigText(request.body as string) }),
    },
    powerRoute('reboot', deps),
    powerRoute('poweroff', deps),
  ]);
  // Registered last and built on request, so it lists whatever components registered later too.
  router.register('api', [
    {
      ...API_ROUTES.getOpenApi,
      summary: 'This document',
      responses: { 200: { description: 'The OpenAPI 3.1 document of the endpoints this host has', schema: { type: 'object' } } },
      handler: () => Promise.resolve({ status: 200, json: buildOpenApiDocument(router.routes(), deps.apiVersion) }),
    },
  ]);
}

