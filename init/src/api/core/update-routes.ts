/**
 * The update endpoints over the update agent: status (phase, versions, progress, bad versions,
 * last error, each reboot gate), check now, approve (the manual gate), and apply now (check, download, stage, then reboot without waiting
 * for the strategy's window or lock). Apply now uses only events the state machine already
 * knows — check-requested, and reboot-allowed once staged, as an operator's permission — so the
 * machine's transitions and journal stay as they are. Pure: the agent and the progress figures
 * come through UpdateControl (../update-control.ts; a fake in tests).
 */
import { describeUpdateState, type GateReport, type UpdateEvent, type UpdatePhase, type UpdateState } from '../../../../updater/src/host.ts';
import { API_ROUTES, type FleetUpdateView, type GateView, type UpdateActionAnswer, type RolloutView, type UpdatePhaseName, type UpdateProgress, type UpdateStatusBody } from '../../../../lib/api/index.ts';
import { ApiError, type ApiRoute, type JsonSchema, type Router } from './router.ts';

export type { FleetUpdateView, GateView, RolloutView, UpdateProgress, UpdateStatusBody };

// The status names the state machine's phases: the wire type and the updater must agree both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const PHASES_AGREE: Same<UpdatePhase, UpdatePhaseName> = true;
void PHASES_AGREE;

/** What the endpoints need of the updater. */
export interface UpdateControl {
  /** The agent, undefined when `update:` is not configured or the agent has not started. */
  agent(): { state(): UpdateState; send(event: UpdateEvent): void } | undefined;
  /** The running boot: slot and version. */
  booted(): { slot: string; version: string } | undefined;
  /** The configured reboot strategy, undefined without `update:`. */
  strategy(): string | undefined;
  /** Transfer progress of the phase, when it has one. */
  progress(state: UpdateState): Promise<UpdateProgress | undefined>;
  /** Whether an operator's apply waits for the update to be staged. */
  applyPending(): boolean;
  /** Remembers an apply: reboot-allowed goes to the agent once it is staged. */
  requestApply(): void;
  /** Each reboot gate now, in check order (empty without `update:`). */
  gates(): GateView[];
  /** Opens the manual gate; false when the strategy has no manual gate. */
  approve(): boolean;
  /** What the last verified channel metadata said about this host. */
  rollout(): RolloutView | null;
  /** The fleet's view of this host's update (halt, reports); null without update.fleetlock. */
  fleet(): FleetUpdateView | null;
}

/** A gate report (updater/src/core/reboot-gates.ts) as the API sends it. Pure. */
export function gateView(report: GateReport): GateView {
  return { gate: report.gate, holds: report.holds, detail: report.detail, opens_at: report.opensAt?.toISOString() ?? null, closes_at: report.closesAt?.toISOString() ?? null };
}

/** The status from the agent's state. Pure. */
export function describeUpdate(
  state: UpdateState | undefined,
  facts: { booted: { slot: string; version: string } | undefined; strategy: string | undefined; progress: UpdateProgress | undefined; applyRequested: boolean; gates?: GateView[]; rollout?: RolloutView | null; fleet?: FleetUpdateView | null },
): UpdateStatusBody {
  const base: UpdateStatusBody = {
    configured: state !== undefined,
    phase: state?.current.phase ?? 'off',
    booted_slot: facts.booted?.slot ?? null,
    current_version: facts.booted?.version ?? null,
    available_version: null,
    target_slot: null,
    strategy: facts.strategy ?? null,
    progress: facts.progress ?? null,
    bad_versions: state ? [...state.badVersions] : [],
    failures: state?.failures ?? 0,
    last_error: null,
    apply_requested: facts.applyRequested,
    gates: state === undefined ? [] : (facts.gates ?? []),
    rollout: state === undefined ? null : (facts.rollout ?? null),
    fleet: state === undefined ? null : (facts.fleet ?? null),
  };
  if (state === undefined) return base;
  // The state machine's own summary says which version, slot and error each phase carries.
  const summary = describeUpdateState(state);
  return {
    ...base,
    available_version: summary.version ?? null,
    target_slot: summary.slot ?? null,
    last_error: summary.error ? { ...summary.error } : null,
  };
}

/** What a check or apply request does in a phase: the events to send, whether to latch the apply, the answer. */
export interface UpdateDecision {
  send: UpdateEvent[];
  latchApply: boolean;
  message: string;
}

const AT_REST: readonly UpdatePhase[] = ['idle', 'succeeded', 'rolled-back', 'failed'];
const TRANSFERRING: readonly UpdatePhase[] = ['checking', 'downloading', 'verifying'];

/** Decides a check-now or apply-now in `phase`; ApiError 409 when the phase does not allow it. Pure. */
export function decideUpdateAction(phase: UpdatePhase, action: 'check' | 'apply', applyAlreadyRequested = false): UpdateDecision {
  if (action === 'check') {
    if (AT_REST.includes(phase)) return { send: [{ type: 'check-requested' }], latchApply: false, message: 'Checking for an update now' };
    throw new ApiError(409, 'UPDATE_BUSY', `An update is under way (phase ${phase}); GET /v1/update shows how far it is`);
  }
  if (AT_REST.includes(phase)) {
    return { send: [{ type: 'check-requested' }], latchApply: true, message: 'Checking now; a newer version is downloaded, staged and the host reboots into it without waiting for the reboot strategy' };
  }
  if (TRANSFERRING.includes(phase)) {
    return { send: [], latchApply: true, message: applyAlreadyRequested ? `Already applying (phase ${phase}); the host reboots once the update is staged` : `The update in phase ${phase} is applied as soon as it is staged: the host reboots without waiting for the reboot strategy` };
  }
  if (phase === 'staged') return { send: [{ type: 'reboot-allowed' }], latchApply: false, message: 'Rebooting into the staged update' };
  throw new ApiError(409, 'UPDATE_BUSY', `The update is past staging (phase ${phase}): nothing to apply until it has finished`);
}

const PROGRESS_SCHEMA: JsonSchema = {
  type: ['object', 'null'],
  required: ['stage', 'done_bytes', 'total_bytes'],
  properties: { stage: { type: 'string', enum: ['download', 'write'] }, done_bytes: { type: 'integer' }, total_bytes: { type: 'integer' } },
};

export const UPDATE_STATUS_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['configured', 'phase', 'booted_slot', 'current_version', 'available_version', 'target_slot', 'strategy', 'progress', 'bad_versions', 'failures', 'last_error', 'apply_requested', 'gates', 'rollout', 'fleet'],
  properties: {
    configured: { type: 'boolean', description: 'false when the machine config has no update: section' },
    phase: { type: 'string', enum: ['off', 'idle', 'checking', 'downloading', 'verifying', 'staged', 'rebooting', 'confirming', 'succeeded', 'rolled-back', 'failed'] },
    booted_slot: { type: ['string', 'null'] },
    current_version: { type: ['string', 'null'] },
    available_version: { type: ['string', 'null'] },
    target_slot: { type: ['string', 'null'] },
    strategy: { type: ['string', 'null'] },
    progress: PROGRESS_SCHEMA,
    bad_versions: { type: 'array', items: { type: 'string' } },
    failures: { type: 'integer' },
    last_error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
    apply_requested: { type: 'boolean' },
    gates: {
      type: 'array',
      description: 'The reboot gates of update.strategy in check order, then the version pin: whether each holds now, and when it next opens or closes',
      items: {
        type: 'object',
        required: ['gate', 'holds', 'detail', 'opens_at', 'closes_at'],
        properties: {
          gate: { type: 'string', enum: ['window', 'fleetlock', 'soak', 'manual', 'pin'] },
          holds: { type: 'boolean' },
          detail: { type: 'string' },
          opens_at: { type: ['string', 'null'], description: 'ISO 8601; null when only an event opens it' },
          closes_at: { type: ['string', 'null'] },
        },
      },
    },
    rollout: {
      type: ['object', 'null'],
      description: "The last verified channel metadata's view of this host: its wave, when it may take the release, halted versions",
      required: ['version', 'decision', 'wave', 'waves', 'eligible_at', 'halted_versions', 'running_halted', 'metadata_expires'],
      properties: {
        version: { type: 'string' },
        decision: { type: 'string', description: 'update, or why not: up-to-date, known-bad, downgrade-refused, below-min-version, pinned, halted, waiting-for-wave' },
        wave: { type: ['integer', 'null'] },
        waves: { type: ['integer', 'null'] },
        eligible_at: { type: ['string', 'null'] },
        halted_versions: { type: 'array', items: { type: 'string' } },
        running_halted: { type: 'boolean' },
        metadata_expires: { type: 'string' },
      },
    },
    fleet: {
      type: ['object', 'null'],
      description: "With update.fleetlock: a berth fleet coordinator's halt of the version this host moves to (the reboot lock is refused until berth fleet resume; the version is not marked bad), and the host reports; null without fleetlock",
      required: ['halt', 'reports', 'last_report_at', 'report_error'],
      properties: {
        halt: {
          type: ['object', 'null'],
          required: ['version', 'reason', 'by', 'since'],
          properties: { version: { type: 'string' }, reason: { type: 'string' }, by: { type: 'string', enum: ['policy', 'admin'] }, since: { type: 'string' } },
        },
        reports: { type: 'string', enum: ['pending', 'on', 'failing', 'off'], description: 'off: the FleetLock server has no /v1/report (not a berth coordinator)' },
        last_report_at: { type: ['string', 'null'] },
        report_error: { type: ['string', 'null'] },
      },
    },
  },
};

const ACTION_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['phase', 'message'],
  properties: { phase: { type: 'string' }, message: { type: 'string' } },
};

/** How often a followed status is sampled. */
export const FOLLOW_INTERVAL_MS = 1000;

function notConfigured(): ApiError {
  return new ApiError(409, 'UPDATE_NOT_CONFIGURED', 'Updates are off: the machine config has no update: section (add update: { server: ... } and apply it; the agent starts at the next boot)');
}

/** Registers the update endpoints (component `update`). `sleep` paces the follow stream. */
export function registerUpdateRoutes(router: Router, control: UpdateControl, sleep: (ms: number, signal: AbortSignal) => Promise<void>): void {
  const status = async (): Promise<UpdateStatusBody> => {
    const state = control.agent()?.state();
    const progress = state === undefined ? undefined : await control.progress(state).catch(() => undefined);
    return describeUpdate(state, { booted: control.booted(), strategy: control.strategy(), progress, applyRequested: control.applyPending(), gates: control.gates(), rollout: control.rollout(), fleet: control.fleet() });
  };
  const act = (action: 'check' | 'apply'): ApiRoute['handler'] => {
    // async: a thrown ApiError becomes the rejection the server answers with.
    return async () => {
      await Promise.resolve();
      const agent = control.agent();
      if (agent === undefined) throw notConfigured();
      const phase = agent.state().current.phase;
      const decision = decideUpdateAction(phase, action, control.applyPending());
      if (decision.latchApply) control.requestApply();
      for (const event of decision.send) agent.send(event);
      return { status: 202, json: { phase, message: decision.message } satisfies UpdateActionAnswer };
    };
  };
  router.register('update', [
    {
      ...API_ROUTES.getUpdate,
      summary: 'Update status: phase, current and available version, progress, bad versions, last error',
      query: [{ name: 'follow', type: 'boolean', description: 'Keep the response open and send the status (one JSON object per line) whenever it changes' }],
      responses: { 200: { description: 'The status (NDJSON when followed)', schema: UPDATE_STATUS_SCHEMA } },
      handler: async (request) => {
        if (request.query.follow !== true) return { status: 200, json: await status() };
        return {
          status: 200,
          contentType: 'application/x-ndjson',
          stream: async (write, signal) => {
            let last = '';
            while (!signal.aborted) {
              const line = JSON.stringify(await status());
              if (line !== last) write(`${line}\n`);
              last = line;
              await sleep(FOLLOW_INTERVAL_MS, signal);
            }
          },
        };
      },
    },
    {
      ...API_ROUTES.checkUpdate,
      summary: 'Check the update channel now',
      responses: { 202: { description: 'The check has started', schema: ACTION_SCHEMA }, 409: { description: 'Updates are off, or an update is under way' } },
      handler: act('check'),
    },
    {
      ...API_ROUTES.applyUpdate,
      summary: 'Apply an update now: check, download, stage, and reboot without waiting for the reboot strategy',
      description: 'At rest: starts a check; a newer version is downloaded and staged, then the host reboots at once. While downloading or verifying: reboots once staged. Staged: reboots now.',
      responses: { 202: { description: 'Accepted; GET /v1/update follows it', schema: ACTION_SCHEMA }, 409: { description: 'Updates are off, or the update is past staging' } },
      handler: act('apply'),
    },
    {
      ...API_ROUTES.approveUpdate,
      summary: "Open the strategy's manual gate: the host reboots into the staged update once every other gate holds too",
      description: 'Unlike apply, the window, the FleetLock lock, the soak and the pin still apply. The approval lasts until the update has been confirmed or rolled back.',
      responses: { 202: { description: 'Approved', schema: ACTION_SCHEMA }, 409: { description: 'Updates are off, or the strategy has no manual gate' } },
      handler: async () => {
        await Promise.resolve();
        const agent = control.agent();
        if (agent === undefined) throw notConfigured();
        if (!control.approve()) throw new ApiError(409, 'UPDATE_NO_MANUAL_GATE', `Nothing to approve: update.strategy "${control.strategy() ?? 'immediate'}" has no manual gate (add manual to it, or use apply to reboot now)`);
        return { status: 202, json: { phase: agent.state().current.phase, message: 'Approved: the host reboots into the staged update once every other gate holds' } satisfies UpdateActionAnswer };
      },
    },
  ]);
}

interface ManifestSizes {
  files: { path: string; size: number }[];
  imageSize: number | undefined;
}

/** The payload files and the root's image size from a bundle manifest text; undefined when it is not one. */
export function manifestSizes(text: string): ManifestSizes | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const payload = (parsed as { payload?: unknown } | null)?.payload;
  if (typeof payload !== 'object' || payload === null) return undefined;
  const files: { path: string; size: number }[] = [];
  let imageSize: number | undefined;
  for (const [name, entry] of Object.entries(payload as Record<string, unknown>)) {
    const e = entry as { path?: unknown; size?: unknown; image_size?: unknown } | null;
    if (typeof e?.path === 'string' && typeof e.size === 'number') files.push({ path: e.path, size: e.size });
    if (name === 'root' && typeof e?.image_size === 'number') imageSize = e.image_size;
  }
  return { files, imageSize };
}

/** Download progress: bytes on disk of each payload file (capped at its size) against the manifest's sizes. */
export function downloadProgress(manifestText: string, sizeOnDisk: (path: string) => number | undefined): UpdateProgress | undefined {
  const sizes = manifestSizes(manifestText);
  if (sizes === undefined) return undefined;
  const total = sizes.files.reduce((sum, f) => sum + f.size, 0);
  const done = sizes.files.reduce((sum, f) => sum + Math.min(sizeOnDisk(f.path) ?? 0, f.size), 0);
  return { stage: 'download', done_bytes: done, total_bytes: total };
}

/**
 * Write progress of the new root: bytes the slot writer's cgroup wrote (io.stat wbytes, every
 * device) against the root image size. The writer's I/O is throttled in that cgroup, so its
 * counters are what reached the disk.
 */
export function writeProgress(manifestText: string, ioStat: string): UpdateProgress | undefined {
  const total = manifestSizes(manifestText)?.imageSize;
  if (total === undefined) return undefined;
  let written = 0;
  for (const match of ioStat.matchAll(/\bwbytes=(\d+)/g)) written += Number(match[1]);
  return { stage: 'write', done_bytes: Math.min(written, total), total_bytes: total };
}
