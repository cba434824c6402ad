/**
 * The host report berth's agent sends to a berth fleet coordinator (`POST /v1/report`,
 * lib/fleet/protocol.ts): the report's status from the agent's state, when a report is due (on
 * every change, and periodically so the coordinator does not count the host as silent), and what
 * an answer means for the next one (a FleetLock server without the route turns reports off).
 * Pure: time comes in as milliseconds.
 */
import type { HostStatus } from '../../../lib/fleet/protocol.ts';
import type { BootIdentity } from './slots.ts';
import type { ErrorSummary, UpdateState } from './state.ts';

/** Default period of the report when nothing changes: well inside the coordinator's silent-after (10 min) and holder timeout (15 min). */
export const REPORT_INTERVAL_MS = 5 * 60_000;
/** After a report failed, the next try comes this soon (or on the next change). */
export const REPORT_RETRY_MS = 30_000;

/**
 * The report's status: the running version and slot, the phase, the version the host moves to
 * (or the one that just failed or rolled back), the bad versions, the rollbacks (each rolled-back
 * version is kept once in badVersions, so their count is the number of rollbacks the journal
 * remembers) and the last failure the agent saw.
 */
export function hostStatusOf(state: UpdateState, booted: Pick<BootIdentity, 'slot' | 'version'>, lastError: ErrorSummary | undefined): HostStatus {
  const c = state.current;
  let target: string | undefined;
  switch (c.phase) {
    case 'idle':
    case 'checking':
      break;
    case 'succeeded':
    case 'rolled-back':
    case 'failed':
      target = c.version;
      break;
    default:
      target = c.target.version;
  }
  return {
    version: booted.version,
    slot: booted.slot,
    phase: c.phase,
    ...(target !== undefined ? { target_version: target } : {}),
    bad_versions: [...state.badVersions],
    rollbacks: state.badVersions.length,
    ...(lastError !== undefined ? { last_error: { code: lastError.code, message: lastError.message } } : {}),
  };
}

/** The last failure seen: a failed phase's error replaces the one remembered; other phases keep it. */
export function lastErrorOf(previous: ErrorSummary | undefined, state: UpdateState): ErrorSummary | undefined {
  return state.current.phase === 'failed' ? state.current.error : previous;
}

/** What the reporter remembers between reports. */
export interface ReportMemory {
  /** `on` after an accepted report, `failing` after a failed one, `off` once the server showed it has no report route. */
  state: 'pending' | 'on' | 'failing' | 'off';
  /** The JSON of the last status the coordinator accepted. */
  lastSent?: string;
  /** When the last report was accepted, or the last try failed. */
  lastAtMs?: number;
  /** The last failure, for status and to log a failure once rather than every try. */
  lastFailure?: string;
}

export const INITIAL_REPORT_MEMORY: ReportMemory = { state: 'pending' };

/** Milliseconds until the status `body` (JSON) must be sent; 0 = now, undefined = never (reports off). */
export function reportDueInMs(memory: ReportMemory, body: string, nowMs: number, intervalMs = REPORT_INTERVAL_MS): number | undefined {
  if (memory.state === 'off') return undefined;
  if (memory.lastAtMs === undefined) return 0;
  if (memory.state === 'failing') return Math.max(0, memory.lastAtMs + Math.min(REPORT_RETRY_MS, intervalMs) - nowMs);
  if (body !== memory.lastSent) return 0;
  return Math.max(0, memory.lastAtMs + intervalMs - nowMs);
}

/** How one report went: the coordinator's HTTP status, or no answer at all. */
export type ReportAnswer = { status: number; kind?: string; value?: string } | { unreachable: string };

/** What the shell logs after a report. */
export type ReportLog = 'reports-off' | 'report-failed' | 'report-recovered' | undefined;

/**
 * The memory after an answer. 200 is accepted. 404 is a FleetLock server without berth's report
 * route (airlock, or any Zincati-only server): reports stop for good, logged once. Anything else
 * (unreachable, 401/403 for a certificate problem, 5xx) is retried; logged when it starts or
 * changes, and when reports work again.
 */
export function afterReport(memory: ReportMemory, body: string, nowMs: number, answer: ReportAnswer): { memory: ReportMemory; log: ReportLog } {
  if ('status' in answer && answer.status === 200) {
    return { memory: { state: 'on', lastSent: body, lastAtMs: nowMs }, log: memory.state === 'failing' ? 'report-recovered' : undefined };
  }
  if ('status' in answer && answer.status === 404) return { memory: { state: 'off', lastAtMs: nowMs }, log: 'reports-off' };
  const failure = 'status' in answer ? `HTTP ${answer.status}${answer.kind ? ` ${answer.kind}` : ''}${answer.value ? `: ${answer.value}` : ''}` : answer.unreachable;
  const isNew = memory.state !== 'failing' || memory.lastFailure !== failure;
  return {
    memory: { state: 'failing', ...(memory.lastSent !== undefined ? { lastSent: memory.lastSent } : {}), lastAtMs: nowMs, lastFailure: failure },
    log: isNew ? 'report-failed' : undefined,
  };
}
