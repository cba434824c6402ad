/**
 * The OCI runtime config (config.json) for one container, built from its image config and
 * its resolved container definition with Docker's secure defaults: the default capability
 * set, no_new_privileges, masked and read-only /proc and /sys paths, every namespace but
 * user, the default seccomp profile, cgroup limits under berth.slice, and /etc/hosts, /etc/resolv.conf, /etc/hostname
 * bind mounts. `privileged` is an explicit opt-out of all of that. Pure.
 */
import { BerthError } from '../../../lib/errors.ts';
import { PATHS } from '../../../lib/layout.ts';
import type { ImageConfig } from './manifest.ts';
import { defaultSeccompProfile, type SeccompProfile } from './seccomp.ts';

export const OCI_VERSION = '1.2.0';

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability of Linux 6.12, for `privileged` and for validating cap_add/cap_drop. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Paths hidden from unprivileged containers (moby oci/defaults.go). */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths mounted read-only in unprivileged containers. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The PATH an image without one gets (Docker's default). */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;
/** crun's cgroupfs manager reads cgroupsPath relative to the cgroup root. */
export const CGROUP_PARENT = PATHS.cgroupServices.slice(PATHS.cgroupRoot.length);

// ---------------------------------------------------------------------------------------------
// OCI runtime-spec types (the parts berth writes)

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'b' | 'c';
  major?: number;
  minor?: number;
  access: string;
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup' | 'user' | 'time';
  path?: string;
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits: OciRlimit[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  annotations: Record<string, string>;
  linux: {
    namespaces: OciNamespace[];
    cgroupsPath: string;
    resources: {
      devices: OciDeviceRule[];
      memory?: { limit?: number; reservation?: number; swap?: number };
      cpu?: { quota: number; period: number };
      pids?: { limit: number };
    };
    sysctl: Record<string, string>;
    devices?: OciDevice[];
    maskedPaths?: string[];
    readonlyPaths?: string[];
    seccomp?: SeccompProfile;
  };
}

// ---------------------------------------------------------------------------------------------
// Input

/** A user already resolved against the image's /etc/passwd and /etc/group (see resolveUser). */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export type MountInput =
  /** A host path (a named volume's directory under /var, or an allowed bind). */
  | { type: 'bind'; source: string; destination: string; readOnly?: boolean }
  | { type: 'tmpfs'; destination: string; sizeBytes?: number; mode?: number };

export type NetworkInput =
  /** A namespace berth prepared with CNI (bridge) or an empty one (none). */
  | { mode: 'bridge' | 'none'; namespacePath?: string }
  | { mode: 'host' }
  /** Share another container's network namespace (`container:<name>` / `service:<name>`). */
  | { mode: 'container'; namespacePath: string };

export interface ContainerSpecInput {
  /** The container's name in the machine config. */
  name: string;
  image: ImageConfig;
  /** The image reference as written, for annotations. */
  imageReference: string;
  /** Absolute path of the container's root (the overlay mount). */
  rootfsPath: string;
  /** Compose `entrypoint`: replaces the image's and drops its cmd (as Docker does). */
  entrypoint?: string[];
  /** Compose `command`: replaces the image's cmd. */
  command?: string[];
  environment?: Record<string, string>;
  user: ResolvedUser;
  workingDir?: string;
  hostname?: string;
  readOnly?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** Default true; only an explicit false turns it off. */
  noNewPrivileges?: boolean;
  sysctls?: Record<string, string>;
  /** Name (nofile, nproc, core, memlock, ...) to limits. */
  ulimits?: Record<string, { soft: number; hard: number }>;
  memLimitBytes?: number;
  memReservationBytes?: number;
  cpus?: number;
  pidsLimit?: number;
  shmSizeBytes?: number;
  network: NetworkInput;
  mounts?: MountInput[];
  /** Files berth writes per container and binds in. */
  files: { hostsPath: string; resolvConfPath: string; hostnamePath: string };
  labels?: Record<string, string>;
  /** Host devices a privileged container gets (the shell lists /dev). */
  hostDevices?: OciDevice[];
  /** Default: berth's Docker-equivalent profile for the container's capabilities; 'unconfined' turns it off (logged by the caller). */
  seccomp?: SeccompProfile | 'unconfined';
}

function invalid(name: string, problems: string[]): BerthError {
  return new BerthError('RUNTIME_SPEC_INVALID', `Cannot build the runtime config of container ${name}: ${problems.join('; ')}`);
}

/** `net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` -> `CAP_NET_ADMIN`; `ALL` stays `ALL`. */
export function normaliseCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** The capability set after Docker's rules: drop ALL first, then add; or defaults + add - drop. */
export function effectiveCapabilities(capAdd: readonly string[], capDrop: readonly string[], problems: string[]): string[] {
  const add = capAdd.map(normaliseCapability);
  const drop = capDrop.map(normaliseCapability);
  for (const [field, list] of [['cap_add', add], ['cap_drop', drop]] as const) {
    list.forEach((cap, i) => {
      if (cap !== 'ALL' && !ALL_CAPABILITIES.includes(cap)) problems.push(`${field}[${i}]: unknown capability "${(field === 'cap_add' ? capAdd : capDrop)[i] ?? ''}"`);
    });
  }
  let caps: string[];
  if (add.includes('ALL')) caps = [...ALL_CAPABILITIES];
  else if (drop.includes('ALL')) caps = add.filter((cap) => ALL_CAPABILITIES.includes(cap));
  else caps = [...new Set([...DEFAULT_CAPABILITIES, ...add.filter((cap) => ALL_CAPABILITIES.includes(cap))])];
  if (!drop.includes('ALL')) caps = caps.filter((cap) => !drop.includes(cap));
  // Keep a stable order (the kernel's numbering) so configs diff cleanly.
  return ALL_CAPABILITIES.filter((cap) => caps.includes(cap));
}

/** The argv Docker would run: entrypoint + cmd, where a given entrypoint drops the image's cmd. */
export function processArgs(image: ImageConfig, entrypoint: string[] | undefined, command: string[] | undefined): string[] {
  const entry = entrypoint ?? image.entrypoint;
  const cmd = command ?? (entrypoint === undefined ? image.cmd : []);
  return [...entry, ...cmd];
}

/** Image env overridden by the definition's environment, with PATH and HOSTNAME as Docker sets them. */
export function processEnv(image: ImageConfig, environment: Record<string, string>, hostname: string): string[] {
  const env = new Map<string, string>();
  for (const entry of image.env) {
    const eq = entry.indexOf('=');
    env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH_ENV.slice('PATH='.length));
  env.set('HOSTNAME', hostname);
  for (const [key, value] of Object.entries(environment)) env.set(key, value);
  return [...env].map(([key, value]) => `${key}=${value}`);
}

// Namespaced sysctls a container may set (Docker's validation, opencontainers/runc's list).
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

function sysctlProblem(key: string, network: NetworkInput['mode']): string | undefined {
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) return undefined;
  if (key.startsWith('net.')) {
    return network === 'host' ? 'net.* sysctls would change the host (network_mode: host)' : undefined;
  }
  if (key === 'kernel.domainname' || key === 'kernel.hostname') return 'set hostname/domainname instead';
  return 'not a namespaced sysctl; it would change the host';
}

const RLIMITS: Readonly<Record<string, string>> = {
  as: 'RLIMIT_AS', core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
};
/** containerd 2 / Docker 25+ default: soft 1024 (select()-safe), hard 524288. */
const DEFAULT_NOFILE: OciRlimit = { type: 'RLIMIT_NOFILE', soft: 1024, hard: 524288 };

/** Docker's default device cgroup rules: mknod of anything, read/write of the safe character devices. */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/** Container names become cgroup leaf names; the machine config validator keeps them this shape. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function isAbsolute(path: string): boolean {
  return path.startsWith('/') && !path.split('/').includes('..');
}

/**
 * Builds config.json for one container. Throws RUNTIME_SPEC_INVALID listing every problem
 * (unknown capabilities, host-wide sysctls, relative paths, nothing to run).
 */
export function buildOciSpec(input: ContainerSpecInput): OciSpec {
  const problems: string[] = [];
  const privileged = input.privileged ?? false;
  if (!NAME.test(input.name)) problems.push(`name "${input.name}" must be letters, digits, '_', '.', '-'`);
  const hostname = input.hostname ?? input.name;
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(hostname)) {
    problems.push(`hostname "${hostname}" is not a valid host name`);
  }

  const args = processArgs(input.image, input.entrypoint, input.command);
  if (args.length === 0) problems.push('nothing to run: the image has no entrypoint or cmd and the definition sets no command');
  const cwd = input.workingDir ?? input.image.workingDir ?? '/';
  if (!isAbsolute(cwd)) problems.push(`working_dir "${cwd}" must be an absolute path`);

  const capabilities = privileged ? [...ALL_CAPABILITIES] : effectiveCapabilities(input.capAdd ?? [], input.capDrop ?? [], problems);

  const sysctl: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.sysctls ?? {})) {
    const problem = sysctlProblem(key, input.network.mode);
    if (problem !== undefined) problems.push(`sysctls.${key}: ${problem}`);
    else sysctl[key] = value;
  }

  const rlimits: OciRlimit[] = [];
  for (const [name, limit] of Object.entries(input.ulimits ?? {})) {
    const type = RLIMITS[name];
    if (type === undefined) problems.push(`ulimits.${name}: unknown limit (expected one of ${Object.keys(RLIMITS).join(', ')})`);
    else if (limit.soft > limit.hard) problems.push(`ulimits.${name}: soft limit ${limit.soft} is above the hard limit ${limit.hard}`);
    else rlimits.push({ type, soft: limit.soft, hard: limit.hard });
  }
  if (!rlimits.some((limit) => limit.type === 'RLIMIT_NOFILE')) rlimits.push({ ...DEFAULT_NOFILE });

  const shmSize = input.shmSizeBytes ?? DEFAULT_SHM_BYTES;
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] },
  ];
  // Docker binds these three read-write unless the root is read-only.
  const fileOptions = ['rbind', 'rprivate', 'nosuid', 'nodev', 'noexec', ...(input.readOnly === true ? ['ro'] : [])];
  mounts.push(
    { destination: '/etc/hosts', type: 'bind', source: input.files.hostsPath, options: fileOptions },
    { destination: '/etc/resolv.conf', type: 'bind', source: input.files.resolvConfPath, options: fileOptions },
    { destination: '/etc/hostname', type: 'bind', source: input.files.hostnamePath, options: fileOptions },
  );
  const reserved = new Set(mounts.map((mount) => mount.destination));
  (input.mounts ?? []).forEach((mount, i) => {
    if (!isAbsolute(mount.destination)) problems.push(`mounts[${i}].destination "${mount.destination}" must be an absolute path without '..'`);
    else if (reserved.has(mount.destination) || mount.destination === '/') problems.push(`mounts[${i}].destination "${mount.destination}" is managed by berth`);
    if (mount.type === 'bind') {
      if (!isAbsolute(mount.source)) problems.push(`mounts[${i}].source "${mount.source}" must be an absolute path without '..'`);
      mounts.push({ destination: mount.destination, type: 'bind', source: mount.source, options: ['rbind', 'rprivate', mount.readOnly === true ? 'ro' : 'rw'] });
    } else {
      const options = ['nosuid', 'nodev', 'noexec'];
      if (mount.sizeBytes !== undefined) options.push(`size=${mount.sizeBytes}`);
      if (mount.mode !== undefined) options.push(`mode=${mount.mode.toString(8)}`);
      mounts.push({ destination: mount.destination, type: 'tmpfs', source: 'tmpfs', options });
    }
  });

  const namespaces: OciNamespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  const network = input.network;
  if (network.mode === 'container') namespaces.push({ type: 'network', path: network.namespacePath });
  else if (network.mode === 'bridge' || network.mode === 'none') {
    if (network.mode === 'bridge' && network.namespacePath === undefined) problems.push('network: bridge mode needs the namespace berth prepared with CNI');
    namespaces.push(network.namespacePath === undefined ? { type: 'network' } : { type: 'network', path: network.namespacePath });
  }
  for (const ns of namespaces) if (ns.path !== undefined && !isAbsolute(ns.path)) problems.push(`network namespace path "${ns.path}" must be absolute`);

  const resources: OciSpec['linux']['resources'] = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((rule) => ({ ...rule })),
  };
  if (input.memLimitBytes !== undefined || input.memReservationBytes !== undefined) {
    resources.memory = {};
    if (input.memLimitBytes !== undefined) {
      if (input.memLimitBytes < 6 * 1024 * 1024) problems.push(`mem_limit: ${input.memLimitBytes} bytes is below the 6 MiB minimum`);
      resources.memory.limit = input.memLimitBytes;
      // As Docker: without memswap_limit, swap may add as much again.
      resources.memory.swap = input.memLimitBytes * 2;
    }
    if (input.memReservationBytes !== undefined) resources.memory.reservation = input.memReservationBytes;
  }
  if (input.cpus !== undefined) {
    if (!(input.cpus > 0)) problems.push(`cpus: expected a positive number but got ${input.cpus}`);
    resources.cpu = { period: 100_000, quota: Math.round(input.cpus * 100_000) };
  }
  if (input.pidsLimit !== undefined) {
    if (!Number.isInteger(input.pidsLimit) || input.pidsLimit === 0 || input.pidsLimit < -1) problems.push(`pids_limit: expected a positive integer or -1 but got ${input.pidsLimit}`);
    resources.pids = { limit: input.pidsLimit };
  }

  if (problems.length > 0) throw invalid(input.name, problems);

  const annotations: Record<string, string> = { ...(input.labels ?? {}) };
  annotations['org.opencontainers.image.ref.name'] = input.imageReference;
  annotations['dev.berth.container'] = input.name;
  annotations['dev.berth.image.config'] = input.image.digest;
  if (privileged) annotations['dev.berth.privileged'] = 'true';

  const user: OciSpec['process']['user'] = { uid: input.user.uid, gid: input.user.gid };
  if (input.user.additionalGids.length > 0) user.additionalGids = [...input.user.additionalGids];

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user,
      args,
      env: processEnv(input.image, input.environment ?? {}, hostname),
      cwd,
      capabilities: { bounding: capabilities, effective: [...capabilities], permitted: [...capabilities] },
      rlimits,
      noNewPrivileges: input.noNewPrivileges ?? true,
    },
    root: { path: input.rootfsPath, readonly: input.readOnly ?? false },
    hostname,
    mounts,
    annotations,
    linux: {
      namespaces,
      cgroupsPath: `${CGROUP_PARENT}/${input.name}`,
      resources,
      sysctl,
    },
  };
  if (privileged) {
    // Privileged: every capability, every device, no masks, no seccomp (Docker's --privileged).
    if (input.hostDevices !== undefined && input.hostDevices.length > 0) spec.linux.devices = input.hostDevices.map((device) => ({ ...device }));
  } else {
    spec.linux.maskedPaths = [...MASKED_PATHS];
    spec.linux.readonlyPaths = [...READONLY_PATHS];
    if (input.seccomp !== 'unconfined') spec.linux.seccomp = input.seccomp ?? defaultSeccompProfile(capabilities);
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Users

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Parses /etc/passwd text; malformed lines are skipped (images carry odd ones). */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4 || line.startsWith('#')) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid) && fields[0] !== undefined && fields[0] !== '') out.push({ name: fields[0], uid, gid });
  }
  return out;
}

/** Parses /etc/group text; malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4 || line.startsWith('#')) continue;
    const gid = Number(fields[2]);
    if (!Number.isInteger(gid) || fields[0] === undefined || fields[0] === '') continue;
    out.push({ name: fields[0], gid, members: (fields[3] ?? '').split(',').filter((member) => member !== '') });
  }
  return out;
}

const ID = /^\d+$/;
const MAX_ID = 0xfffffffe;

/**
 * Resolves a Docker `user` (`name`, `uid`, `name:group`, `uid:gid`, empty = root) against the
 * image's passwd and group files, as Docker does: numeric ids need no entry, names must
 * exist, supplementary groups come from group membership. Throws RUNTIME_USER_UNKNOWN.
 */
export function resolveUser(spec: string | undefined, passwdText: string, groupText: string): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const [userPart = '', groupPart] = (spec ?? '').split(':', 2);
  const fail = (why: string): BerthError => new BerthError('RUNTIME_USER_UNKNOWN', `Cannot run as user "${spec ?? ''}": ${why}`);
  let uid = 0;
  let gid = 0;
  let name: string | undefined = 'root';
  if (userPart !== '') {
    if (ID.test(userPart)) {
      uid = Number(userPart);
      if (uid > MAX_ID) throw fail(`uid ${userPart} is out of range`);
      const entry = passwd.find((candidate) => candidate.uid === uid);
      name = entry?.name;
      gid = entry?.gid ?? 0;
    } else {
      const entry = passwd.find((candidate) => candidate.name === userPart);
      if (entry === undefined) throw fail(`no user "${userPart}" in the image's /etc/passwd`);
      ({ uid, gid } = entry);
      name = entry.name;
    }
  } else {
    const root = passwd.find((candidate) => candidate.uid === 0);
    name = root?.name ?? 'root';
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (ID.test(groupPart)) {
      gid = Number(groupPart);
      if (gid > MAX_ID) throw fail(`gid ${groupPart} is out of range`);
    } else {
      const entry = groups.find((candidate) => candidate.name === groupPart);
      if (entry === undefined) throw fail(`no group "${groupPart}" in the image's /etc/group`);
      gid = entry.gid;
    }
  }
  const additionalGids =
    name === undefined || (groupPart !== undefined && groupPart !== '')
      ? []
      : [...new Set(groups.filter((group) => group.members.includes(name) && group.gid !== gid).map((group) => group.gid))];
  return { uid, gid, additionalGids };
}
