/**
 * The status probe on a real host: systeminformation for CPU, memory, disks and interfaces,
 * node:os for every address of an interface (systeminformation reports one per family).
 * systeminformation runs helper commands with execSync (lscpu, df, cat of /sys files), which
 * would stall init's event loop for seconds; so init asks a child process (`berth.mjs probe`,
 * createChildProbe) and only that child calls createSystemProbe.
 * Effects: reads /proc and /sys, systeminformation's helper commands, one child process per status.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import si from 'systeminformation';
import { PATHS } from '../../../lib/layout.ts';
import type { CpuInfo, DiskInfo, HostProbe, InterfaceInfo, MemoryInfo } from './core/host-routes.ts';

/** Longest a single probe may take in the child before it is reported as missing. */
export const PROBE_TIMEOUT_MS = 15_000;
/** Longest the child may run. */
export const PROBE_CHILD_TIMEOUT_MS = 20_000;
/** A snapshot answers every probe call of one status request (they come together). */
const SNAPSHOT_REUSE_MS = 2000;

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// File systems that say nothing about the host's disks.
const PSEUDO_FS = new Set(['tmpfs', 'devtmpfs', 'overlay', 'proc', 'sysfs', 'cgroup2', 'efivarfs', 'squashfs']);

/** The probe backed by systeminformation. */
export function createSystemProbe(): HostProbe {
  return {
    uptimeSeconds: () => Promise.resolve(si.time().uptime),
    cpu: () =>
      withTimeout(
        'cpu',
        Promise.all([si.cpu(), si.currentLoad()]).then(([cpu, load]) => {
          const [one = 0, five = 0, fifteen = 0] = os.loadavg();
          return {
            model: `${cpu.manufacturer} ${cpu.brand}`.trim(),
            cores: cpu.cores,
            load_percent: Math.round(load.currentLoad * 10) / 10,
            load_average: [one, five, fifteen].map((v) => Math.round(v * 100) / 100) as [number, number, number],
          };
        }),
      ),
    memory: () =>
      withTimeout(
        'memory',
        si.mem().then((mem) => ({ total_bytes: mem.total, used_bytes: mem.total - mem.available, available_bytes: mem.available })),
      ),
    disks: () =>
      withTimeout(
        'disks',
        si.fsSize().then((list): DiskInfo[] =>
          list
            .filter((fs) => !PSEUDO_FS.has(fs.type))
            .map((fs) => ({ mount: fs.mount, device: fs.fs, fs_type: fs.type, size_bytes: fs.size, used_bytes: fs.used })),
        ),
      ),
    interfaces: () =>
      withTimeout(
        'interfaces',
        si.networkInterfaces().then((list): InterfaceInfo[] => {
          const addresses = os.networkInterfaces();
          const items = Array.isArray(list) ? list : [list];
          return items
            .filter((nic) => !nic.internal)
            .map((nic) => ({
              name: nic.iface,
              mac: nic.mac,
              up: nic.operstate === 'up',
              addresses: (addresses[nic.iface] ?? []).map((a) => a.cidr ?? a.address),
            }));
        }),
      ),
  };
}

type Outcome<T> = { ok: T } | { error: string };

/** What `berth.mjs probe` prints: every fact or why it is missing. */
export interface ProbeSnapshot {
  uptime: Outcome<number>;
  cpu: Outcome<CpuInfo>;
  memory: Outcome<MemoryInfo>;
  disks: Outcome<DiskInfo[]>;
  interfaces: Outcome<InterfaceInfo[]>;
}

async function outcome<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await fn() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Gathers every fact (in the child process). */
export async function takeProbeSnapshot(probe: HostProbe = createSystemProbe()): Promise<ProbeSnapshot> {
  const [uptime, cpu, memory, disks, interfaces] = await Promise.all([
    outcome(() => probe.uptimeSeconds()),
    outcome(() => probe.cpu()),
    outcome(() => probe.memory()),
    outcome(() => probe.disks()),
    outcome(() => probe.interfaces()),
  ]);
  return { uptime, cpu, memory, disks, interfaces };
}

function unwrap<T>(result: Outcome<T> | undefined): Promise<T> {
  if (result === undefined) return Promise.reject(new Error('the probe did not answer'));
  return 'ok' in result ? Promise.resolve(result.ok) : Promise.reject(new Error(result.error));
}

/** The probe init uses: one `node berth.mjs probe` child per status request. */
export function createChildProbe(nodePath: string = PATHS.nodeBinary, bundlePath: string = PATHS.bundle): HostProbe {
  let cached: { at: number; snapshot: Promise<ProbeSnapshot> } | undefined;
  const snapshot = (): Promise<ProbeSnapshot> => {
    const now = performance.now();
    if (cached && now - cached.at < SNAPSHOT_REUSE_MS) return cached.snapshot;
    const pending = new Promise<ProbeSnapshot>((resolve, reject) => {
      execFile(
        nodePath,
        [bundlePath, 'probe'],
        { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, timeout: PROBE_CHILD_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`berth.mjs probe failed: ${error.message} ${stderr.slice(-300)}`.trim()));
          else {
            try {
              resolve(JSON.parse(stdout) as ProbeSnapshot);
            } catch {
              reject(new Error(`berth.mjs probe printed no JSON: ${stdout.slice(0, 200)}`));
            }
          }
        },
      );
    });
    cached = { at: now, snapshot: pending };
    return pending;
  };
  return {
    uptimeSeconds: () => snapshot().then((s) => unwrap(s.uptime)),
    cpu: () => snapshot().then((s) => unwrap(s.cpu)),
    memory: () => snapshot().then((s) => unwrap(s.memory)),
    disks: () => snapshot().then((s) => unwrap(s.disks)),
    interfaces: () => snapshot().then((s) => unwrap(s.interfaces)),
  };
}
