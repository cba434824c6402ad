/**
 * The probe init uses for GET /v1/status: one `node berth.mjs probe` child per status request
 * (probe.ts runs there, with systeminformation), its JSON answer shared by every fact of that
 * request. Effects: one child process per status.
 */
import { execFile } from 'node:child_process';
import { PATHS } from '../../../lib/layout.ts';
import type { CpuInfo, DiskInfo, HostProbe, InterfaceInfo, MemoryInfo } from './core/host-routes.ts';

/** Longest the child may run. */
export const PROBE_CHILD_TIMEOUT_MS = 20_000;
/** A snapshot answers every probe call of one status request (they come together). */
const SNAPSHOT_REUSE_MS = 2000;

export type Outcome<T> = { ok: T } | { error: string };

/** What `berth.mjs probe` prints: every fact or why it is missing. */
export interface ProbeSnapshot {
  uptime: Outcome<number>;
  cpu: Outcome<CpuInfo>;
  memory: Outcome<MemoryInfo>;
  disks: Outcome<DiskInfo[]>;
  interfaces: Outcome<InterfaceInfo[]>;
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
