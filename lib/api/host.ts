/** The wire types of the host endpoints: GET /v1/status, POST /v1/config/validate, POST /v1/power/*. */
import type { ApiProblem } from './problems.ts';

/** CPU facts for the status. */
export interface CpuInfo {
  model: string;
  cores: number;
  /** Load over the last sampling interval, 0-100. */
  load_percent: number;
  load_average: [number, number, number];
}

export interface MemoryInfo {
  total_bytes: number;
  used_bytes: number;
  available_bytes: number;
}

export interface DiskInfo {
  mount: string;
  device: string;
  fs_type: string;
  size_bytes: number;
  used_bytes: number;
}

export interface InterfaceInfo {
  name: string;
  mac: string;
  up: boolean;
  addresses: string[];
}

/** init's Node as the status shows it. */
export interface InitProcessInfo {
  pid: number;
  /** How often berth-pid1 restarted init's Node since boot. */
  restarts: number;
  /** Why the previous init ended (`signal:SIGKILL`, `exit-code:1`, `heap-exhausted`), null if it never did. */
  last_restart_reason: string | null;
  rss_bytes: number;
  heap_used_bytes: number;
}

/** The status body of GET /v1/status. */
export interface HostStatus {
  version: string;
  slot: string;
  state: string;
  hostname: string;
  boot_time: string | null;
  uptime_s: number | null;
  init: InitProcessInfo | null;
  cpu: CpuInfo | null;
  memory: MemoryInfo | null;
  disks: DiskInfo[] | null;
  interfaces: InterfaceInfo[] | null;
  warnings: string[];
}

/** The answer of GET /v1/config: the config in force (private keys redacted) and where it came from. */
export interface ConfigBody {
  source: string;
  origin: string;
  config: unknown;
}

/** The result of validating a config text (POST /v1/config/validate). */
export interface ConfigValidation {
  valid: boolean;
  problems: ApiProblem[];
  warnings: ApiProblem[];
}

/** The answer of POST /v1/power/reboot and /v1/power/poweroff. */
export interface PowerAnswer {
  action: 'reboot' | 'poweroff';
  message: string;
}
