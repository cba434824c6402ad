/**
 * Sends the host report to a berth fleet coordinator: on every change of the agent's state and
 * periodically (core/fleet-report.ts decides what and when), one report at a time. A FleetLock
 * server without the report route (404: airlock or another Zincati-only server) turns reports
 * off for this boot, logged once. Effects: HTTP through the FleetLock client, timers.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Clock } from '../../lib/sys/clock.ts';
import { afterReport, hostStatusOf, INITIAL_REPORT_MEMORY, lastErrorOf, reportDueInMs, REPORT_INTERVAL_MS, type ReportAnswer, type ReportMemory } from './core/fleet-report.ts';
import type { BootIdentity } from './core/slots.ts';
import type { ErrorSummary, UpdateState } from './core/state.ts';
import type { FleetLockClient } from './fleetlock.ts';

export interface FleetReporterOptions {
  client: Required<Pick<FleetLockClient, 'report'>>;
  /** The agent's current state. */
  state(): UpdateState;
  booted: Pick<BootIdentity, 'slot' | 'version'>;
  clock: Pick<Clock, 'now' | 'sleep'>;
  logger: Logger;
  /** Period of the report when nothing changes (default 5 min). */
  intervalMs?: number;
}

/** What status shows of the reports. */
export interface FleetReportView {
  state: ReportMemory['state'];
  /** When the last report was accepted (or last failed, or the server said it has no report route). */
  lastAt?: Date;
  lastFailure?: string;
}

export interface FleetReporter {
  /** The agent's state changed: report it now. */
  notify(): void;
  /** Sends the report if it is due (changed or old) and waits for the answer; never throws. */
  flush(): Promise<void>;
  /** Reports until `signal` aborts or reports are turned off. */
  run(signal: AbortSignal): Promise<void>;
  view(): FleetReportView;
}

export function createFleetReporter(options: FleetReporterOptions): FleetReporter {
  const { client, clock, logger } = options;
  const intervalMs = options.intervalMs ?? REPORT_INTERVAL_MS;
  let memory: ReportMemory = INITIAL_REPORT_MEMORY;
  let lastError: ErrorSummary | undefined;
  let queue: Promise<void> = Promise.resolve();
  let wake = new AbortController();

  const current = (): { body: string; status: ReturnType<typeof hostStatusOf> } => {
    const state = options.state();
    lastError = lastErrorOf(lastError, state);
    const status = hostStatusOf(state, options.booted, lastError);
    return { body: JSON.stringify(status), status };
  };

  const sendIfDue = async (): Promise<void> => {
    const { body, status } = current();
    if (reportDueInMs(memory, body, clock.now().getTime(), intervalMs) !== 0) return;
    let answer: ReportAnswer;
    let released = false;
    try {
      const result = await client.report(status);
      answer = result.ok ? { status: 200 } : { status: result.status, kind: result.kind, value: result.value };
      released = result.ok && result.released;
    } catch (error) {
      answer = { unreachable: describeError(error) };
    }
    const next = afterReport(memory, body, clock.now().getTime(), answer);
    memory = next.memory;
    if (next.log === 'reports-off') logger.info('Host reports off: the FleetLock server has no /v1/report (not a berth coordinator)');
    else if (next.log === 'report-failed') logger.warn('Host report not accepted', { phase: status.phase, error: memory.lastFailure });
    else if (next.log === 'report-recovered') logger.info('Host reports accepted again');
    if (released) logger.info('Reboot lock released by the coordinator on this report', { phase: status.phase, version: status.version });
  };

  const flush = (): Promise<void> => {
    // One report at a time, in order: a change during a report is sent right after it.
    queue = queue.then(sendIfDue).catch((error: unknown) => logger.warn('Host report failed', { error: describeError(error) }));
    return queue;
  };

  return {
    notify() {
      wake.abort();
    },
    flush,
    async run(signal) {
      while (!signal.aborted) {
        await flush();
        const due = reportDueInMs(memory, current().body, clock.now().getTime(), intervalMs);
        if (due === undefined) return;
        if (due === 0) continue;
        if (wake.signal.aborted) wake = new AbortController();
        try {
          await clock.sleep(due, AbortSignal.any([signal, wake.signal]));
        } catch {
          // Woken by a change, or stopped: the loop looks again.
        }
        if (wake.signal.aborted) wake = new AbortController();
      }
    },
    view: () => ({ state: memory.state, ...(memory.lastAtMs !== undefined ? { lastAt: new Date(memory.lastAtMs) } : {}), ...(memory.lastFailure !== undefined ? { lastFailure: memory.lastFailure } : {}) }),
  };
}
