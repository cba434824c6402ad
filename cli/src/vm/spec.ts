/**
 * The `berth vm test` spec: the VMs to boot (image, machine config, forwards, extra drives) and
 * the checks to run against them in order. Parsed and checked in one go with the config toolkit:
 * every problem with its line, unknown keys refused. Pure: the caller reads the file.
 */
import path from 'node:path';
import { loadYaml } from '../../../lib/config/load.ts';
import { array, byteSize, duration, integer, object, oneOf, record, string, type Infer, type Report } from '../../../lib/config/validate.ts';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const vmName = string({ pattern: NAME, expected: 'a VM name (lowercase letters, digits, dashes)' });

/** `HOST:GUEST[/udp]`; HOST 0 picks a free port on 127.0.0.1. */
const forward = string({ pattern: /^\d{1,5}:\d{1,5}(\/(tcp|udp))?$/, expected: 'a forward "HOST:GUEST" (HOST 0: any free port), e.g. "8080:80"' }).refine((text) => {
  const [host, guest] = text.split('/')[0]?.split(':').map(Number) ?? [];
  if ((host ?? 0) > 65535) return `host port ${host} is out of range (0-65535)`;
  if ((guest ?? 0) < 1 || (guest ?? 0) > 65535) return `guest port ${guest} is out of range (1-65535)`;
  return undefined;
});

const vmShape = object({
  /** An image directory with manifest.json, or a disk file (.qcow2, .raw); relative to the spec. */
  image: string({ minLength: 1 }).optional(),
  /** The machine config given through fw_cfg; relative to the spec. */
  config: string({ minLength: 1 }).optional(),
  forwards: array(forward).default([]),
  memory: byteSize({ min: 256 * 1024 * 1024 }).optional(),
  cpus: integer({ min: 1, max: 64 }).optional(),
  drives: array(object({ file: string({ minLength: 1 }), kind: oneOf(['virtio', 'cdrom']).default('virtio') })).default([]),
  /** A private network shared with the other VMs of the spec that name it. */
  network: string({ pattern: NAME, expected: 'a network name (lowercase letters, digits, dashes)' }).optional(),
});

const timeout = duration({ min: 1000 });

const CHECK_KINDS = ['ready', 'reboot', 'containers', 'http', 'exec'] as const;

const checkShape = object({
  ready: vmName.optional(),
  reboot: vmName.optional(),
  containers: object({
    vm: vmName.optional(),
    running: array(string({ minLength: 1 })).default([]),
    healthy: array(string({ minLength: 1 })).default([]),
    timeout: timeout.default(180_000),
  }).optional(),
  http: object({
    vm: vmName.optional(),
    /** The guest port of one of the VM's forwards. */
    port: integer({ min: 1, max: 65535 }),
    path: string({ pattern: /^\//, expected: 'a path starting with "/"' }).default('/'),
    status: integer({ min: 100, max: 599 }).default(200),
    /** Text the body must contain. */
    body: string().optional(),
    timeout: timeout.default(60_000),
  }).optional(),
  exec: object({
    vm: vmName.optional(),
    container: string({ minLength: 1 }),
    command: array(string(), { minItems: 1 }),
    exit_code: integer({ min: 0, max: 255 }).default(0),
    /** Text standard output must contain. */
    stdout: string().optional(),
    timeout: timeout.default(60_000),
  }).optional(),
}).refine((check) => {
  const kinds = CHECK_KINDS.filter((kind) => check[kind] !== undefined);
  if (kinds.length === 0) return `a check needs one of ${CHECK_KINDS.join(', ')}`;
  if (kinds.length > 1) return `a check does one thing: found ${kinds.join(' and ')}; split it into ${kinds.length} checks`;
  if (check.containers && check.containers.running.length + check.containers.healthy.length === 0) return 'name the containers that must be running or healthy';
  return undefined;
});

const specSchema = object({
  vms: record(vmShape, { key: vmName }).refine((vms) => (Object.keys(vms).length === 0 ? 'a spec needs at least one VM' : undefined)),
  checks: array(checkShape, { minItems: 1 }),
}).refine((spec, report) => crossCheck(spec, report));

type RawSpec = Infer<typeof specSchema>;
type RawCheck = RawSpec['checks'][number];

/** Which VM a check names, explicitly or as the only VM. */
function checkVm(check: RawCheck): string | undefined {
  return check.ready ?? check.reboot ?? check.containers?.vm ?? check.http?.vm ?? check.exec?.vm;
}

function crossCheck(spec: RawSpec, report: Report): void {
  const names = Object.keys(spec.vms);
  spec.checks.forEach((check, i) => {
    // Each check has exactly one kind (checked on the item).
    const kind = CHECK_KINDS.find((k) => check[k] !== undefined) ?? 'ready';
    const named = checkVm(check);
    const where = kind === 'ready' || kind === 'reboot' ? ['checks', i, kind] : ['checks', i, kind, 'vm'];
    if (named === undefined && names.length > 1) report(`name the VM: the spec has ${names.length} (${names.join(', ')})`, { path: ['checks', i, kind] });
    else if (named !== undefined && !names.includes(named)) report(`no VM '${named}' in vms (${names.join(', ')})`, { path: where });
    const vm = named === undefined && names.length > 1 ? undefined : spec.vms[named ?? names[0] ?? ''];
    if (check.http && vm && !vm.forwards.some((f) => guestPortOf(f) === check.http?.port && !f.endsWith('/udp'))) {
      report(`guest port ${check.http.port} is not forwarded: add "0:${check.http.port}" to vms.${named ?? names[0]}.forwards`, { path: ['checks', i, 'http', 'port'] });
    }
  });
}

function guestPortOf(text: string): number {
  return Number(text.split('/')[0]?.split(':')[1]);
}

/** One forward of a spec VM; hostPort 0: any free port. */
export interface SpecForward {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  guestPort: number;
}

/** A VM of the spec, paths resolved against the spec's directory. */
export interface SpecVm {
  name: string;
  /** Absolute; undefined: the default built image. */
  image?: string;
  /** Absolute. */
  config?: string;
  forwards: SpecForward[];
  memoryMiB?: number;
  cpus?: number;
  drives: Array<{ file: string; kind: 'virtio' | 'cdrom' }>;
  network?: string;
}

/** One check, with the VM it runs against and its 1-based line in the spec. */
export type SpecCheck = { vm: string; line: number } & (
  | { kind: 'ready' }
  | { kind: 'reboot' }
  | { kind: 'containers'; running: string[]; healthy: string[]; timeoutMs: number }
  | { kind: 'http'; port: number; path: string; status: number; body?: string; timeoutMs: number }
  | { kind: 'exec'; container: string; command: string[]; exitCode: number; stdout?: string; timeoutMs: number }
);

export interface VmTestSpec {
  vms: SpecVm[];
  checks: SpecCheck[];
}

/**
 * Parses a spec text (`source` names it in messages; relative paths are resolved against
 * `specDir`). Throws ConfigError (code VM_SPEC_INVALID) listing every problem as
 * `<source>:<line>:<col>: <path>: <message>`.
 */
export function parseVmTestSpec(text: string, source: string, specDir: string): VmTestSpec {
  const { value } = loadYaml(text, source, specSchema, { code: 'VM_SPEC_INVALID' });
  const lines = checkLines(text);
  const names = Object.keys(value.vms);
  const vms = Object.entries(value.vms).map(([name, vm]): SpecVm => ({
    name,
    ...(vm.image === undefined ? {} : { image: path.resolve(specDir, vm.image) }),
    ...(vm.config === undefined ? {} : { config: path.resolve(specDir, vm.config) }),
    forwards: vm.forwards.map((f) => {
      const [ports, protocol] = f.split('/');
      const [host, guest] = (ports ?? '').split(':').map(Number);
      return { protocol: protocol === 'udp' ? 'udp' : 'tcp', hostPort: host ?? 0, guestPort: guest ?? 0 };
    }),
    ...(vm.memory === undefined ? {} : { memoryMiB: Math.floor(vm.memory / 1024 / 1024) }),
    ...(vm.cpus === undefined ? {} : { cpus: vm.cpus }),
    drives: vm.drives.map((d) => ({ file: path.resolve(specDir, d.file), kind: d.kind })),
    ...(vm.network === undefined ? {} : { network: vm.network }),
  }));
  const checks = value.checks.map((c, i): SpecCheck => {
    const base = { vm: checkVm(c) ?? names[0] ?? '', line: lines[i] ?? 0 };
    if (c.ready !== undefined) return { ...base, kind: 'ready' };
    if (c.reboot !== undefined) return { ...base, kind: 'reboot' };
    if (c.containers) return { ...base, kind: 'containers', running: c.containers.running, healthy: c.containers.healthy, timeoutMs: c.containers.timeout };
    if (c.http) {
      const h = c.http;
      return { ...base, kind: 'http', port: h.port, path: h.path, status: h.status, ...(h.body === undefined ? {} : { body: h.body }), timeoutMs: h.timeout };
    }
    const e = c.exec as NonNullable<RawCheck['exec']>;
    return { ...base, kind: 'exec', container: e.container, command: e.command, exitCode: e.exit_code, ...(e.stdout === undefined ? {} : { stdout: e.stdout }), timeoutMs: e.timeout };
  });
  return { vms, checks };
}

/** The line of each item of the top-level `checks:` sequence (for TAP lines that point back). */
function checkLines(text: string): number[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^checks:\s*(#.*)?$/.test(l));
  if (start < 0) return [];
  const out: number[] = [];
  let indent: number | undefined;
  for (let i = start + 1; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (/^\S/.test(line)) break;
    const item = /^(\s*)- /.exec(line);
    if (item && (indent === undefined || (item[1] ?? '').length === indent)) {
      indent ??= (item[1] ?? '').length;
      out.push(i + 1);
    }
  }
  return out;
}

/** How a check reads in TAP lines: `web: http GET :8080/ -> 200 "hello"`. */
export function describeCheck(check: SpecCheck): string {
  switch (check.kind) {
    case 'ready':
      return `${check.vm}: ready (BERTH-READY on the console)`;
    case 'reboot':
      return `${check.vm}: reboot through the API, then ready again`;
    case 'containers':
      return `${check.vm}: containers ${[...check.running.map((c) => `${c} running`), ...check.healthy.map((c) => `${c} healthy`)].join(', ')}`;
    case 'http':
      return `${check.vm}: http GET guest port ${check.port}${check.path} answers ${check.status}${check.body === undefined ? '' : ` with ${JSON.stringify(check.body)}`}`;
    case 'exec':
      return `${check.vm}: exec in ${check.container}: ${check.command.join(' ')} exits ${check.exitCode}${check.stdout === undefined ? '' : ` printing ${JSON.stringify(check.stdout)}`}`;
  }
}
