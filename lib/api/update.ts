/** The wire types of the update endpoints (/v1/update...). */

/** An update phase as the status names it (the updater's state machine; `off` without `update:`). */
export type UpdatePhaseName = 'idle' | 'checking' | 'downloading' | 'verifying' | 'staged' | 'rebooting' | 'confirming' | 'succeeded' | 'rolled-back' | 'failed';

/** How far the current phase's transfer is: the bundle download, or the write of the new root. */
export interface UpdateProgress {
  stage: 'download' | 'write';
  done_bytes: number;
  total_bytes: number;
}

/** The channel's view of this host: wave and eligibility of its release, halts. */
export interface RolloutView {
  version: string;
  decision: string;
  wave: number | null;
  waves: number | null;
  eligible_at: string | null;
  halted_versions: string[];
  running_halted: boolean;
  metadata_expires: string;
}

/** One reboot gate in the status: whether it holds now and when it next opens (or closes). */
export interface GateView {
  gate: string;
  holds: boolean;
  detail: string;
  opens_at: string | null;
  closes_at: string | null;
}

/** The fleet's view of this host's update, with `update.fleetlock`. */
export interface FleetUpdateView {
  /** The coordinator's halt of the version this host moves to, while it refuses the reboot lock for it (a berth coordinator's `version_halted`). */
  halt: { version: string; reason: string; by: 'policy' | 'admin'; since: string } | null;
  /** Host reports (`POST /v1/report`): pending (none yet), on (the last was accepted), failing, or off (the server has no report route: not a berth coordinator). */
  reports: 'pending' | 'on' | 'failing' | 'off';
  /** When the last report was accepted (or last failed, or was found unsupported). */
  last_report_at: string | null;
  /** Why the last report failed, while reports fail. */
  report_error: string | null;
}

/** The status body of GET /v1/update. */
export interface UpdateStatusBody {
  configured: boolean;
  phase: UpdatePhaseName | 'off';
  booted_slot: string | null;
  current_version: string | null;
  /** The version being installed (or last installed / rolled back / failed). */
  available_version: string | null;
  target_slot: string | null;
  strategy: string | null;
  progress: UpdateProgress | null;
  bad_versions: string[];
  failures: number;
  last_error: { code: string; message: string } | null;
  /** An operator asked to apply: the host reboots as soon as the update is staged. */
  apply_requested: boolean;
  /** The reboot gates of the strategy and the pin. */
  gates: GateView[];
  /** The last verified channel metadata's view of this host; null before a check. */
  rollout: RolloutView | null;
  /** The fleet's view (halt, reports) with update.fleetlock; null without it. */
  fleet: FleetUpdateView | null;
}

/** The answer of POST /v1/update/check, /apply and /approve. */
export interface UpdateActionAnswer {
  phase: string;
  message: string;
}
