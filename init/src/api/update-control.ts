/**
 * The update endpoints' view of the running updater: the agent from init's UpdaterHost, progress
 * read from the bundle directory on /var (download) and the slot writer's cgroup io.stat (write),
 * and the operator's apply latch, which sends reboot-allowed once the agent is staged.
 * Effects: reads files under /var/lib/berth/update and /sys/fs/cgroup; a polling timer while an
 * apply waits.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../lib/log.ts';
import { PATHS } from '../../../lib/layout.ts';
import type { HaltInfo } from '../../../lib/fleet/protocol.ts';
import { BUNDLE_FILES, type ChannelObservation, type FleetReportView, type GateReport, type UpdateAgent, type UpdateState } from '../../../updater/src/host.ts';
import { WRITER_CGROUP } from '../update.ts';
import { downloadProgress, gateView, writeProgress, type UpdateControl, type UpdateProgress } from './core/update-routes.ts';

/** How often a latched apply looks at the agent's phase. */
const APPLY_POLL_MS = 250;

export interface UpdateControlOptions {
  updater: { agent(): UpdateAgent | undefined; gates(): GateReport[]; approve(): boolean; rollout(): ChannelObservation | undefined; fleet?(): { halt?: HaltInfo; reports?: FleetReportView } | undefined };
  booted(): { slot: string; version: string } | undefined;
  strategy: string | undefined;
  logger: Logger;
  stateDir?: string;
  writerCgroup?: string;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** The real UpdateControl. */
export function createUpdateControl(options: UpdateControlOptions): UpdateControl {
  const { logger } = options;
  const updateDir = join(options.stateDir ?? PATHS.stateDir, 'update');
  const ioStatPath = `${options.writerCgroup ?? `${PATHS.cgroupRoot}/${WRITER_CGROUP}`}/io.stat`;
  // The agent's state when the apply was asked for: any later state at rest means the apply ended.
  let latch: { since: UpdateState; timer: NodeJS.Timeout } | undefined;

  const clearLatch = (): void => {
    if (latch) clearInterval(latch.timer);
    latch = undefined;
  };

  const watch = (): void => {
    const agent = options.updater.agent();
    if (!latch || !agent) return clearLatch();
    const state = agent.state();
    const phase = state.current.phase;
    if (state.current.phase === 'staged') {
      logger.info('Update applied by operator: rebooting without waiting for the strategy', { version: state.current.target.version });
      clearLatch();
      agent.send({ type: 'reboot-allowed' });
    } else if (state !== latch.since && ['idle', 'succeeded', 'rolled-back', 'failed'].includes(phase)) {
      logger.info('Update apply ended without a staged update', { phase });
      clearLatch();
    } else if (phase === 'rebooting' || phase === 'confirming') clearLatch();
  };

  return {
    agent: () => options.updater.agent(),
    booted: () => options.booted(),
    strategy: () => options.strategy,
    applyPending: () => latch !== undefined,
    gates: () => options.updater.gates().map(gateView),
    rollout: () => {
      const seen = options.updater.rollout();
      if (!seen) return null;
      return {
        version: seen.version,
        decision: seen.decision,
        wave: seen.wave ?? null,
        waves: seen.waves ?? null,
        eligible_at: seen.eligibleAt?.toISOString() ?? null,
        halted_versions: [...seen.halted],
        running_halted: seen.isRunningHalted,
        metadata_expires: seen.expires,
      };
    },
    fleet: () => {
      const seen = options.updater.fleet?.();
      if (!seen) return null;
      const r = seen.reports;
      return {
        halt: seen.halt ? { ...seen.halt } : null,
        reports: r?.state ?? 'pending',
        last_report_at: r?.lastAt?.toISOString() ?? null,
        report_error: r?.state === 'failing' ? (r.lastFailure ?? null) : null,
      };
    },
    approve: () => {
      const approved = options.updater.approve();
      if (approved) logger.info('Update reboot approved by operator');
      return approved;
    },
    requestApply() {
      const agent = options.updater.agent();
      if (!agent || latch) return;
      logger.info('Update apply requested by operator', { phase: agent.state().current.phase });
      const timer = setInterval(watch, APPLY_POLL_MS);
      timer.unref();
      latch = { since: agent.state(), timer };
    },
    async progress(state): Promise<UpdateProgress | undefined> {
      const c = state.current;
      if (c.phase !== 'downloading' && c.phase !== 'verifying') return undefined;
      const dir = join(updateDir, c.target.version);
      let manifest: string;
      try {
        manifest = await readFile(join(dir, BUNDLE_FILES.manifest), 'utf8');
      } catch {
        return undefined;
      }
      if (c.phase === 'downloading') {
        const sizes = new Map<string, number | undefined>();
        // Read the sizes first; downloadProgress is pure.
        const names = /"path"\s*:\s*"([^"]+)"/g;
        for (const match of manifest.matchAll(names)) if (match[1] !== undefined) sizes.set(match[1], await sizeOf(join(dir, match[1])));
        return downloadProgress(manifest, (path) => sizes.get(path));
      }
      const ioStat = await readFile(ioStatPath, 'utf8').catch(() => '');
      return writeProgress(manifest, ioStat);
    },
  };
}
