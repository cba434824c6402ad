/** The wire types of the container endpoints (/v1/containers...). */

/** One container as the list shows it. */
export interface ContainerSummary {
  name: string;
  image: string;
  /** waiting | preparing | running | restarting | exited | failed | stopped */
  state: string;
  /** starting | healthy | unhealthy, null without a health check. */
  health: string | null;
  restarts: number;
  pid: number | null;
  /** When the current (or last) run began. */
  started_at: string | null;
  exit_code: number | null;
  critical: boolean;
  /** Why it failed (state failed). */
  error: string | null;
  /** Published ports as declared ("8080:80"). */
  ports: string[];
  network_mode: string;
  /** Its addresses on the container bridge (empty on host, none and shared networks). */
  addresses: string[];
}

/** One container in full: the summary and its config as declared (with defaults filled in). */
export interface ContainerDetail extends ContainerSummary {
  config: unknown;
}

/** The answer of GET /v1/containers. */
export interface ContainerList {
  containers: ContainerSummary[];
}

/** The answer of POST /v1/containers/{name}/start, /stop and /restart. */
export interface ContainerActionAnswer {
  name: string;
  /** Whether anything happened (false: it was already so). */
  changed: boolean;
  state: string;
}

/** The answer of POST /v1/containers/{name}/exec: the command's exit code and output. */
export interface ExecAnswer {
  exit_code: number;
  stdout: string;
  stderr: string;
  /** True when either stream wrote more than was kept. */
  truncated: boolean;
  stdout_dropped_bytes: number;
  stderr_dropped_bytes: number;
}
