/**
 * Machine config sections `containers` and `registries`. A container is a Compose service: the
 * field names and forms follow the Compose specification, so a service pasted from a compose.yaml
 * works; berth's own settings live under `x-berth`, other `x-...` keys are accepted and dropped.
 * Values come out normalised (command lists, environment maps, parsed volumes). Pure schema.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { posix } from 'node:path';
import { PATHS } from '../../layout.ts';
import {
  array,
  boolean,
  byteSize,
  custom,
  duration,
  integer,
  INVALID,
  number,
  object,
  oneOf,
  record,
  string,
  union,
  type Infer,
  type Report,
  type Shape,
} from '../validate.ts';

// Container names become crun ids, cgroup names, file names and (by default) host names.
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** A container's name: its key under `containers`. */
export const containerName = string({ pattern: CONTAINER_NAME, expected: 'a container name (letters, digits, "_", ".", "-"; at most 63)' });

const nonEmpty = string({ minLength: 1 });

/**
 * Splits a Compose `command: "a 'b c' d"` string into words as a POSIX shell would (quotes and
 * backslashes; no expansion), as Compose does. Undefined when a quote is left open.
 */
export function splitCommand(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word = (word ?? '') + c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1] ?? '')) word = (word ?? '') + (text[++i] ?? '');
      else word = (word ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) word = (word ?? '') + (text[++i] ?? '');
    else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (quote !== undefined) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

/** `command` / `entrypoint`: a string (split like a shell) or a list of words. */
const commandLine = union(
  array(string()),
  string().transform((text, report) => {
    const words = splitCommand(text);
    if (words === undefined) {
      report('unterminated quote');
      return INVALID;
    }
    return words;
  }),
);

/** Compose's "map or list of KEY=VALUE" (environment, labels, sysctls); a null map value means empty. */
function keyValues(what: string, keyPattern: RegExp): ReturnType<typeof union<[ReturnType<typeof record<string>>, ReturnType<typeof array<string>>]>> {
  const mapForm = record(custom<string>('a string, number, boolean or nothing', (value) => (value === null ? '' : typeof value === 'object' ? INVALID : String(value as string))), {
    key: string({ pattern: keyPattern, expected: `a ${what} name` }),
  });
  const listForm = array(string({ pattern: /^[^=]+=[\s\S]*$/, expected: `"NAME=value"` }));
  return union(mapForm, listForm);
}

function toMap(value: Record<string, string> | string[], report: Report, keyPattern: RegExp, what: string): Record<string, string> {
  if (!Array.isArray(value)) return value;
  const out: Record<string, string> = {};
  value.forEach((entry, index) => {
    const at = entry.indexOf('=');
    const key = entry.slice(0, at);
    if (!keyPattern.test(key)) report(`invalid ${what} name "${key}"`, { path: [index] });
    else if (Object.hasOwn(out, key)) report(`${what} "${key}" is set twice`, { path: [index] });
    else out[key] = entry.slice(at + 1);
  });
  return out;
}

const ENV_NAME = /^[^=\0]+$/;
const LABEL_NAME = /^[A-Za-z0-9._/-]+$/;
const SYSCTL_NAME = /^[a-z0-9_]+(?:[./][a-z0-9_-]+)+$/;

const environment = keyValues('variable', ENV_NAME).transform((value, report) => toMap(value, report, ENV_NAME, 'variable'));
const labels = keyValues('label', LABEL_NAME).transform((value, report) => toMap(value, report, LABEL_NAME, 'label'));
const sysctls = keyValues('sysctl', SYSCTL_NAME).transform((value, report) => toMap(value, report, SYSCTL_NAME, 'sysctl'));

/** A published port as Docker reads the short syntax. */
export interface PortSpec {
  hostIp?: string;
  /** Absent: the container port is exposed on the bridge only. */
  hostPort?: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/** Parses `"8080:80"`, `"127.0.0.1:53:53/udp"`, `"[::1]:80:80"`, `"80"`; undefined when invalid (no ranges). */
export function parsePort(text: string): PortSpec | undefined {
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):)?(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  if (match === null) return undefined;
  const [, ip6, ip4, host, container = '', protocol] = match;
  const hostIp = ip6 ?? ip4;
  if (hostIp !== undefined && !(isIPv4(hostIp) || isIPv6(hostIp))) return undefined;
  if (hostIp !== undefined && host === undefined) return undefined;
  const port = (p: string): number | undefined => (Number(p) >= 1 && Number(p) <= 65535 ? Number(p) : undefined);
  const containerPort = port(container);
  const hostPort = host === undefined ? undefined : port(host);
  if (containerPort === undefined || (host !== undefined && hostPort === undefined)) return undefined;
  const spec: PortSpec = { containerPort, protocol: protocol === 'udp' ? 'udp' : 'tcp' };
  if (hostIp !== undefined) spec.hostIp = hostIp;
  if (hostPort !== undefined) spec.hostPort = hostPort;
  return spec;
}

const port = custom<string>(
  'a port like "8080:80", "127.0.0.1:53:53/udp" or "80"',
  (value) => {
    const text = typeof value === 'number' ? String(value) : value;
    return typeof text === 'string' && parsePort(text) !== undefined ? text : INVALID;
  },
  (value) => typeof value === 'string' || typeof value === 'number',
);

/**
 * berth's own state on /var: the API's private key, registry secrets, the update journal, the
 * saved config, image store (all under stateDir), init's log and the container log files (a
 * container able to write there could swap its log for a symlink that init appends to), and
 * berth's caches (init's V8 code cache: what PID 1 runs at the next boot).
 */
export const BERTH_STATE_PATHS: readonly string[] = [PATHS.stateDir, PATHS.logDir, PATHS.containerLogDir, PATHS.cacheDir];

/**
 * Why a host path may not be bound into a container, or undefined when it may: it is berth's
 * state (or inside it), or an ancestor of it (`/`, `/var`, `/var/lib`, `/var/log`), which would
 * expose it too. A named volume's directory and what lies below it are the one exception.
 * `path` must be absolute and normalised (see normaliseBindSource). Pure.
 */
export function berthStateConflict(path: string): string | undefined {
  if (path.startsWith(`${PATHS.volumesDir}/`)) return undefined;
  for (const state of BERTH_STATE_PATHS) {
    if (path === state || path.startsWith(`${state}/`)) return `is berth's own state (${state})`;
    if (path === '/' || state.startsWith(`${path}/`)) return `contains berth's own state (${state})`;
  }
  return undefined;
}

/** `/var//lib/./x/` -> `/var/lib/x`; undefined for relative paths and ones with a ".." part. */
export function normaliseBindSource(source: string): string | undefined {
  if (!source.startsWith('/') || source.split('/').includes('..')) return undefined;
  const normal = posix.normalize(source);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** A volume after validation. */
export type VolumeSpec =
  | { type: 'volume'; source: string; target: string; readOnly: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes?: number; mode?: number };

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function isCleanAbsolute(path: string): boolean {
  return path.startsWith('/') && !path.split('/').some((part) => part === '..' || part === '.');
}

/** Checks a volume; reports problems under the volume's own path. */
function checkVolume(volume: VolumeSpec, report: Report): VolumeSpec | typeof INVALID {
  let ok = true;
  let checked = volume;
  if (!isCleanAbsolute(volume.target) || volume.target === '/') {
    report(`target "${volume.target}" must be an absolute path other than "/" without "." or ".."`);
    ok = false;
  }
  if (volume.type === 'bind') {
    const source = normaliseBindSource(volume.source);
    const conflict = source === undefined ? undefined : berthStateConflict(source);
    if (source === undefined || !(source === '/var' || source.startsWith('/var/'))) {
      report(`bind source "${volume.source}" must be an absolute path under /var without ".." (the rest of the host is read-only or berth's)`);
      ok = false;
    } else if (conflict !== undefined) {
      const spelled = source === volume.source ? '' : ` (${source})`;
      report(`bind source "${volume.source}"${spelled} ${conflict}: its keys, secrets and journal must stay out of containers; bind a directory of its own under /var or use a named volume`);
      ok = false;
    } else checked = { ...volume, source };
  }
  if (volume.type === 'volume' && !VOLUME_NAME.test(volume.source)) {
    report(`volume name "${volume.source}" must be letters, digits, "_", ".", "-"`);
    ok = false;
  }
  return ok ? checked : INVALID;
}

const shortVolume = string().transform((text, report): VolumeSpec | typeof INVALID => {
  const parts = text.split(':');
  const [source = '', target, mode, ...rest] = parts;
  if (target === undefined || rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    report(`expected "SOURCE:TARGET[:ro|rw]" but got "${text}"`);
    return INVALID;
  }
  const readOnly = mode === 'ro';
  const volume: VolumeSpec = source.startsWith('/') || source.startsWith('.') ? { type: 'bind', source, target, readOnly } : { type: 'volume', source, target, readOnly };
  return checkVolume(volume, report);
});

const longVolume = object({
  type: oneOf(['volume', 'bind', 'tmpfs']),
  source: nonEmpty.optional(),
  target: nonEmpty,
  read_only: boolean().default(false),
  tmpfs: object({ size: byteSize().optional(), mode: integer({ min: 0, max: 0o7777 }).optional() }).optional(),
}).transform((value, report): VolumeSpec | typeof INVALID => {
  if (value.type === 'tmpfs') {
    if (value.source !== undefined) report('a tmpfs has no source', { path: ['source'] });
    const volume: VolumeSpec = { type: 'tmpfs', target: value.target };
    if (value.tmpfs?.size !== undefined) volume.sizeBytes = value.tmpfs.size;
    if (value.tmpfs?.mode !== undefined) volume.mode = value.tmpfs.mode;
    return checkVolume(volume, report);
  }
  if (value.tmpfs !== undefined) report(`"tmpfs" options need type: tmpfs`, { path: ['tmpfs'] });
  if (value.source === undefined) {
    report(`missing required key "source" (anonymous volumes are not supported: name the volume)`);
    return INVALID;
  }
  return checkVolume({ type: value.type, source: value.source, target: value.target, readOnly: value.read_only }, report);
});

const volume = union(shortVolume, longVolume);

const NETWORK_MODE = /^(?:bridge|host|none|(?:container|service):[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62})$/;
const networkMode = string({ pattern: NETWORK_MODE, expected: 'one of "bridge", "host", "none", "container:<name>", "service:<name>"' });

const restart = string({ pattern: /^(?:no|always|unless-stopped|on-failure(?::\d{1,9})?)$/, expected: 'one of "no", "always", "on-failure[:N]", "unless-stopped"' });

/** A health check test after validation: argv run directly, or a shell line run with /bin/sh -c. */
export type HealthTest = { kind: 'none' } | { kind: 'exec'; argv: string[] } | { kind: 'shell'; command: string };

const healthTest = union(
  string({ minLength: 1 }).transform((command): HealthTest => ({ kind: 'shell', command })),
  array(string(), { minItems: 1 }).transform((items, report): HealthTest | typeof INVALID => {
    const [kind, ...rest] = items;
    if (kind === 'NONE') return { kind: 'none' };
    if (kind === 'CMD' && rest.length > 0) return { kind: 'exec', argv: rest };
    if (kind === 'CMD-SHELL' && rest.length === 1 && rest[0] !== undefined) return { kind: 'shell', command: rest[0] };
    report('expected ["CMD", "program", "arg", ...], ["CMD-SHELL", "command line"] or ["NONE"]');
    return INVALID;
  }),
);

const healthcheck = object({
  test: healthTest.optional(),
  interval: duration({ min: 1 }).optional(),
  timeout: duration({ min: 1 }).optional(),
  retries: integer({ min: 1, max: 1000 }).optional(),
  start_period: duration().optional(),
  start_interval: duration({ min: 1 }).optional(),
  disable: boolean().default(false),
});

const dependencyName = containerName;
const dependsOn = union(
  array(dependencyName).transform((names, report) => {
    const out: Record<string, { condition: DependencyCondition }> = {};
    names.forEach((name, index) => {
      if (Object.hasOwn(out, name)) report(`"${name}" is listed twice`, { path: [index] });
      out[name] = { condition: 'service_started' };
    });
    return out;
  }),
  record(
    object({
      condition: oneOf(['service_started', 'service_healthy', 'service_completed_successfully']).default('service_started'),
      // Compose's restart/required: accepted for compatibility; berth restarts dependants never.
      restart: boolean().optional(),
      required: boolean().default(true),
    }).transform((value) => ({ condition: value.condition })),
    { key: dependencyName },
  ),
);

/** Conditions of `depends_on` entries. */
export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

const ulimit = union(
  integer({ min: -1 }).transform((value) => ({ soft: value, hard: value })),
  object({ soft: integer({ min: -1 }), hard: integer({ min: -1 }) }).refine((value) => (value.soft > value.hard && value.hard !== -1 ? `soft limit ${value.soft} is above the hard limit ${value.hard}` : undefined)),
);

const ipAddress = custom<string>('an IP address', (value) => (typeof value === 'string' && (isIPv4(value) || isIPv6(value)) ? value : INVALID), (value) => typeof value === 'string');

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `extra_hosts` entry as "name:ip" (list form "name:ip" or "name=ip", or a map); normalised to "name:ip". */
function parseExtraHost(entry: string): string | undefined {
  const at = /^([^:=]+)[:=](.+)$/.exec(entry);
  if (at === null) return undefined;
  const [, name = '', rawIp = ''] = at;
  const ip = rawIp.startsWith('[') && rawIp.endsWith(']') ? rawIp.slice(1, -1) : rawIp;
  return HOST_NAME.test(name) && (isIPv4(ip) || isIPv6(ip)) ? `${name}:${ip}` : undefined;
}

const extraHosts = union(
  array(custom<string>('"name:ip" or "name=ip"', (value) => (typeof value === 'string' ? (parseExtraHost(value) ?? INVALID) : INVALID), (value) => typeof value === 'string')),
  record(ipAddress, { key: string({ pattern: HOST_NAME, expected: 'a host name' }) }).transform((map) => Object.entries(map).map(([name, ip]) => `${name}:${ip}`)),
);

const capability = string({ pattern: /^(?:CAP_)?[A-Za-z_]+$/, expected: 'a capability name like "NET_ADMIN" or "ALL"' });

const berthSettings = object({
  /** A container that must be running (and healthy, with a health check) for the boot to be good. */
  critical: boolean().default(false),
});

const UNSUPPORTED: Readonly<Record<string, string>> = {
  build: 'berth does not build images; set "image"',
  deploy: 'use restart, mem_limit, cpus and pids_limit instead',
  networks: 'containers join the one bridge network (network_mode: bridge); named networks are not supported',
  secrets: 'bind a file from /var with "volumes" instead',
  configs: 'bind a file from /var with "volumes" instead',
  env_file: 'put the variables in "environment"',
  devices: 'device access is not supported (use privileged: true if you must)',
  links: 'containers on the bridge reach each other by name',
  expose: 'every port is reachable on the bridge; publish with "ports"',
  profiles: 'every declared container runs',
  extends: 'use YAML anchors (x-... keys) instead',
  container_name: 'the key under "containers" is the name',
  tty: 'containers have no terminal; their output goes to the log',
  stdin_open: 'containers have no stdin',
  pid: 'containers always get their own PID namespace',
  ipc: 'containers always get their own IPC namespace',
  userns_mode: 'user namespaces are not supported',
  security_opt: 'not supported',
  logging: 'logs always go to /var/log/containers/<name>.log',
  init: 'not supported',
  platform: 'images are chosen for linux/amd64',
  pull_policy: 'images are pulled when missing',
};

const container = object(
  {
    image: nonEmpty,
    command: commandLine.optional(),
    entrypoint: commandLine.optional(),
    environment: environment.default({}),
    user: union(string({ minLength: 1 }), integer({ min: 0 }).transform(String)).optional(),
    working_dir: string({ pattern: /^\/.*$/, expected: 'an absolute path' }).optional(),
    ports: array(port).default([]),
    volumes: array(volume).default([]),
    tmpfs: union(string({ pattern: /^\/.*$/, expected: 'an absolute path' }).transform((path) => [path]), array(string({ pattern: /^\/.*$/, expected: 'an absolute path' }))).optional(),
    network_mode: networkMode.default('bridge'),
    restart: restart.default('no'),
    healthcheck: healthcheck.optional(),
    depends_on: dependsOn.default({}),
    stop_signal: string({ pattern: /^(?:SIG)?[A-Z0-9]+(?:[+-]\d+)?$|^\d+$/, expected: 'a signal like "SIGTERM" or "SIGQUIT"' }).default('SIGTERM'),
    stop_grace_period: duration().default(10_000),
    read_only: boolean().default(false),
    cap_add: array(capability).default([]),
    cap_drop: array(capability).default([]),
    privileged: boolean().default(false),
    sysctls: sysctls.default({}),
    ulimits: record(ulimit, { key: string({ pattern: /^[a-z]+$/, expected: 'a limit name like "nofile"' }) }).default({}),
    mem_limit: byteSize({ min: 6 * 1024 * 1024 }).optional(),
    mem_reservation: byteSize().optional(),
    shm_size: byteSize().optional(),
    cpus: union(number({ min: 0.001 }), string({ pattern: /^\d+(?:\.\d+)?$/, expected: 'a number of CPUs like "0.5"' }).transform(Number)).optional(),
    pids_limit: integer({ min: -1 }).optional(),
    labels: labels.default({}),
    hostname: string({ pattern: HOST_NAME, expected: 'a host name' }).optional(),
    dns: union(ipAddress.transform((ip) => [ip]), array(ipAddress, { maxItems: 3 })).default([]),
    extra_hosts: extraHosts.default([]),
    'x-berth': berthSettings.default(),
  },
  { allowKeys: /^x-/, unsupported: UNSUPPORTED },
).transform((value, report) => {
  // Compose's `tmpfs:` shorthand is one more kind of volume.
  const { tmpfs, ...rest } = value;
  const volumes: VolumeSpec[] = [...rest.volumes, ...(tmpfs ?? []).map((target): VolumeSpec => ({ type: 'tmpfs', target }))];
  const targets = new Set<string>();
  volumes.forEach((v, index) => {
    if (targets.has(v.target)) report(`"${v.target}" is mounted twice`, { path: ['volumes', index] });
    targets.add(v.target);
  });
  if (rest.privileged) report('privileged: the container gets every capability and device and no seccomp filter', { path: ['privileged'], warning: true });
  for (const risk of containerRisks({ ...rest, volumes })) report(risk.message, { path: risk.path, warning: true });
  const shared = /^(?:container|service):/.test(rest.network_mode);
  if (shared && rest.ports.length > 0) report(`ports cannot be published by a container sharing another's network (${rest.network_mode}); publish them there`, { path: ['ports'] });
  if ((rest.network_mode === 'host' || rest.network_mode === 'none') && rest.ports.length > 0) {
    report(`ports are not published with network_mode ${rest.network_mode}`, { path: ['ports'], warning: true });
  }
  if (shared && rest.hostname !== undefined) report(`hostname cannot be set when sharing another container's network (${rest.network_mode})`, { path: ['hostname'] });
  return { ...rest, volumes };
});

/** One container of the `containers` section after validation. */
export type ContainerConfig = Infer<typeof container>;

/** Capabilities that hand a container much of the host (Docker's own "dangerous" list). */
const RISKY_CAPABILITIES: Readonly<Record<string, string>> = {
  ALL: 'every capability',
  SYS_ADMIN: 'mounts, namespaces and most of the seccomp profile',
  SYS_MODULE: 'loading kernel modules',
  SYS_PTRACE: 'tracing and reading other processes',
  NET_ADMIN: 'the network configuration of its namespace (the host\'s with network_mode: host)',
};

/** A bind of a system directory directly on /var (`/var/tmp`, `/var/lib/x`, `/var/log/x`) is shared with everything else there. */
function isVarRoot(source: string): boolean {
  return /^\/var\/[^/]+$/.test(source) || /^\/var\/(?:lib|log)\/[^/]+$/.test(source);
}

/**
 * Settings that weaken a container's isolation without being errors, each with its path and a
 * warning message: risky cap_add entries and binds of /var roots (`privileged` is warned about
 * on its own). The config validator reports them as warnings; the runtime logs them at start.
 */
export function containerRisks(container: Pick<ContainerConfig, 'cap_add' | 'volumes'>): Array<{ path: Array<string | number>; message: string }> {
  const risks: Array<{ path: Array<string | number>; message: string }> = [];
  container.cap_add.forEach((cap, index) => {
    const name = cap.trim().toUpperCase().replace(/^CAP_/, '');
    const what = RISKY_CAPABILITIES[name];
    if (what !== undefined) risks.push({ path: ['cap_add', index], message: `cap_add ${cap}: the container gets ${what}` });
  });
  container.volumes.forEach((volume, index) => {
    if (volume.type === 'bind' && isVarRoot(volume.source)) {
      risks.push({ path: ['volumes', index], message: `bind source "${volume.source}" is a system directory of /var shared with the host; bind a directory of the container's own` });
    }
  });
  return risks;
}

/** The container whose network a `container:<name>` / `service:<name>` mode shares; undefined for the others. */
export function sharedNetworkOf(mode: string): string | undefined {
  const match = /^(?:container|service):(.+)$/.exec(mode);
  return match?.[1];
}

/** A dependency cycle among containers (depends_on and shared networks), as names in order, or undefined. */
export function findCycle(edges: Readonly<Record<string, readonly string[]>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of edges[name] ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(edges).sort()) {
    const cycle = visit(name);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

const containers = record(container, { key: containerName }).refine((all, report) => {
  const edges: Record<string, string[]> = {};
  for (const [name, c] of Object.entries(all)) {
    edges[name] = [];
    for (const dependency of Object.keys(c.depends_on)) {
      if (dependency === name) report(`"${name}" cannot depend on itself`, { path: [name, 'depends_on', dependency] });
      else if (!Object.hasOwn(all, dependency)) report(`no container named "${dependency}"`, { path: [name, 'depends_on', dependency] });
      else edges[name].push(dependency);
    }
    const shared = sharedNetworkOf(c.network_mode);
    if (shared !== undefined) {
      if (shared === name) report(`"${name}" cannot share its own network`, { path: [name, 'network_mode'] });
      else if (!Object.hasOwn(all, shared)) report(`no container named "${shared}"`, { path: [name, 'network_mode'] });
      else edges[name].push(shared);
    }
  }
  const cycle = findCycle(edges);
  if (cycle !== undefined) report(`dependency cycle: ${cycle.join(' -> ')}`, { path: [cycle[0] ?? ''] });
});

/** Registry host names with an optional port, as image references name them. */
const REGISTRY_HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

const registry = object({
  /** Plain HTTP (and unverified TLS never): allowed only for registries that say so. */
  insecure: boolean().default(false),
  username: nonEmpty.optional(),
  /** A file holding the password or token; its content never appears in logs or status. */
  password_file: string({ pattern: /^\/.+$/, expected: 'an absolute path' }).optional(),
}).refine((value, report) => {
  if (value.username !== undefined && value.password_file === undefined) report('"username" needs "password_file"', { path: ['username'] });
  if (value.password_file !== undefined && value.username === undefined) report('"password_file" needs "username"', { path: ['password_file'] });
});

/** One registry's settings under `registries`. */
export type RegistryConfig = Infer<typeof registry>;

/**
 * `containers: { <name>: <Compose service> }` and
 * `registries: { "<host[:port]>": { insecure, username, password_file } }`; both empty by default.
 */
export const containersSection = {
  containers: containers.default({}),
  registries: record(registry, { key: string({ pattern: REGISTRY_HOST, expected: 'a registry host like "registry.example.com:5000"' }) }).default({}),
} satisfies Shape;
