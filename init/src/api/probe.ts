/**
 * The status probe on a real host: systeminformation for CPU, memory, disks and interfaces,
 * node:os for every address of an interface (systeminformation reports one per family).
 * systeminformation runs helper commands with execSync (lscpu, df, cat of /sys files), which
 * would stall init's event loop for seconds; so only the child `berth.mjs probe` loads this
 * module (a dynamic import in main.ts: half of the bundle's code, never parsed or run by
 * init), and init asks that child through probe-child.ts.
 * Effects: reads /proc and /sys, systeminformation's helper commands.
 */
import os from 'node:os';
import si from 'systeminformation';
import type { DiskInfo, HostProbe, InterfaceInfo } from './core/host-routes.ts';
import type { Outcome, ProbeSnapshot } from './probe-child.ts';

/** Longest a single probe may take in the child before it is reported as missing. */
export const PROBE_TIMEOUT_MS = 15_000;

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
