/**
 * Applies a new machine config to the running host (the API's config apply, try and confirm):
 * runs the plan's live steps with the same functions the boot uses, keeps the config in force,
 * saves an applied or confirmed text as the last good config on /var, and reverts a try that is
 * not confirmed in time. A try leaves the saved config alone until it is confirmed, so a reboot
 * before the confirmation boots the previous config. One change at a time.
 * Effects: files (/etc, /proc/sys, /var), modprobe, chronyd and the containers through init.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';
import { ApiError } from './api/core/router.ts';
import type { ApplyReport, ConfigControl, PendingTry, StepOutcome } from './api/core/config-routes.ts';
import { planConfigChange, type ConfigPlan, type LiveStep } from './core/config-plan.ts';
import type { MachineConfig } from './core/machine-config.ts';
import { renderResolvConf } from './core/network-plan.ts';
import { applyHostname } from './config.ts';
import { applyKernelSettings, applyTimeZone } from './host-settings.ts';
import { loadKernelModules } from './kernel-modules.ts';
import { RESOLV_CONF_PATH } from './network.ts';
import type { Sys } from './sys/types.ts';

/** The config in force and where it came from. */
export interface ConfigInForce {
  config: MachineConfig;
  source: string;
  origin: string;
}

export interface ConfigApplyDeps {
  sys: Pick<Sys, 'fs' | 'exec' | 'clock'>;
  logger: Logger;
  initial: ConfigInForce;
  /** Stops chronyd and starts it with these servers (none: stopped). init owns the daemon. */
  restartTimeSync(servers: readonly string[]): Promise<void>;
  /** The container engine's reconcile; absent without an engine (the containers step then fails). */
  reconcileContainers?(config: MachineConfig, changes: { create: readonly string[]; recreate: readonly string[]; remove: readonly string[] }): Promise<{ name: string; state: string }[]>;
  /** Saves the text as the last good config, crash-safely (default: write-and-rename to PATHS.configOnVar). */
  saveLastGood?(text: string): Promise<void>;
  /** Arms a timer; returns its cancel (default setTimeout, unref'd). */
  setTimer?(ms: number, fire: () => void): () => void;
}

export interface ConfigApplier extends ConfigControl {
  /** Resolves when a revert that has started has finished (tests). */
  settled(): Promise<void>;
}

function defaultTimer(ms: number, fire: () => void): () => void {
  const timer = setTimeout(fire, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

function describeStep(step: LiveStep): string {
  switch (step.kind) {
    case 'set-hostname':
      return `hostname ${step.hostname}`;
    case 'set-time-zone':
      return `time zone ${step.zone}`;
    case 'load-kernel-modules':
      return `kernel modules ${step.modules.join(', ')}`;
    case 'set-sysctls':
      return `sysctls ${Object.entries(step.sysctls)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`;
    case 'restart-time-sync':
      return step.servers.length === 0 ? 'time sync stopped' : `time sync from ${step.servers.join(', ')}`;
    case 'write-dns':
      return `DNS servers ${step.servers.join(', ')}`;
    case 'reconcile-containers': {
      const parts = [
        step.create.length > 0 ? `created ${step.create.join(', ')}` : '',
        step.recreate.length > 0 ? `recreated ${step.recreate.join(', ')}` : '',
        step.remove.length > 0 ? `removed ${step.remove.join(', ')}` : '',
      ].filter((p) => p !== '');
      return parts.length > 0 ? `containers ${parts.join('; ')}` : 'container registries and disk reserve';
    }
  }
}

/** Creates the applier over the config the host booted with. */
export function createConfigApplier(deps: ConfigApplyDeps): ConfigApplier {
  const { sys, logger } = deps;
  let inForce: ConfigInForce = deps.initial;
  let pending: { previous: ConfigInForce; text: string; info: PendingTry; cancel: () => void } | undefined;
  // One change at a time: applies, reverts and confirms queue behind each other.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  const save = async (text: string): Promise<void> => {
    if (deps.saveLastGood) return deps.saveLastGood(text);
    await sys.fs.makeDir(PATHS.stateDir, 0o755);
    await sys.fs.writeAtomic(PATHS.configOnVar, text);
  };

  const runStep = async (step: LiveStep, config: MachineConfig): Promise<void> => {
    switch (step.kind) {
      case 'set-hostname':
        return applyHostname(sys.fs, logger, config);
      case 'set-time-zone':
        return applyTimeZone(sys.fs, logger, step.zone);
      case 'load-kernel-modules': {
        const failed = await loadKernelModules(sys, logger, step.modules);
        if (failed.length > 0) throw new Error(`Kernel modules not loaded: ${failed.join(', ')}`);
        return;
      }
      case 'set-sysctls': {
        const failures = await applyKernelSettings(sys, logger, { ...config, kernel_modules: [], sysctls: step.sysctls });
        if (failures > 0) throw new Error(`${failures} sysctl(s) not set (the host log names them)`);
        return;
      }
      case 'restart-time-sync':
        return deps.restartTimeSync(step.servers);
      case 'write-dns': {
        const text = renderResolvConf({ servers: step.servers, search: step.search });
        if (text !== undefined) await sys.fs.writeAtomic(RESOLV_CONF_PATH, text);
        return;
      }
      case 'reconcile-containers': {
        if (!deps.reconcileContainers) throw new Error('No container engine on this host');
        const statuses = await deps.reconcileContainers(config, step);
        const failed = statuses.filter((s) => s.state === 'failed');
        if (failed.length > 0) throw new Error(`Containers failed to start: ${failed.map((s) => s.name).join(', ')} (berth ctl logs says why)`);
        return;
      }
    }
  };

  const runPlan = async (plan: ConfigPlan, config: MachineConfig, why: string): Promise<StepOutcome[]> => {
    const outcomes: StepOutcome[] = [];
    for (const step of plan.steps) {
      const detail = describeStep(step);
      try {
        await runStep(step, config);
        outcomes.push({ step: step.kind, ok: true, detail });
      } catch (error) {
        // The other steps still run: a half-applied config is reported, and saved or reverted as a whole.
        logger.error('Config step failed', { step: step.kind, why, error: describeError(error) });
        outcomes.push({ step: step.kind, ok: false, detail, error: describeError(error) });
      }
    }
    return outcomes;
  };

  let reverting: Promise<void> = Promise.resolve();
  const revert = (): void => {
    reverting = serial(async () => {
      const tried = pending;
      if (tried === undefined) return;
      pending = undefined;
      const plan = planConfigChange(inForce.config, tried.previous.config);
      logger.warn('Config try not confirmed, reverting', { deadline: tried.info.deadline, steps: plan.steps.length });
      const outcomes = await runPlan(plan, tried.previous.config, 'revert');
      inForce = tried.previous;
      logger.info('Config try reverted', { failed: outcomes.filter((o) => !o.ok).length, reboot_required: plan.reboot_required });
    });
  };

  return {
    current: () => inForce,
    pendingTry: () => pending?.info,
    settled: () => reverting,
    apply: (text, config, plan, mode) =>
      serial(async (): Promise<Omit<ApplyReport, 'warnings' | 'plan'>> => {
        if (pending !== undefined) {
          throw new ApiError(409, 'CONFIG_TRY_PENDING', `A config try is waiting for its confirmation until ${pending.info.deadline}; confirm it (berth ctl config confirm) or wait for it to revert`);
        }
        // Planned against the config in force when the request came; plan again if another change got in first.
        const effective = planConfigChange(inForce.config, config);
        const usePlan = JSON.stringify(effective) === JSON.stringify(plan) ? plan : effective;
        logger.info('Config change', { mode: mode.kind, live_steps: usePlan.steps.length, reboot_required: usePlan.reboot_required });
        const applied = await runPlan(usePlan, config, mode.kind);
        const previous = inForce;
        inForce = { config, source: 'api', origin: 'api' };
        if (mode.kind === 'try') {
          const deadline = new Date(sys.clock.now().getTime() + mode.timeoutMs).toISOString();
          const cancel = (deps.setTimer ?? defaultTimer)(mode.timeoutMs, revert);
          pending = { previous, text, info: { deadline, timeout_ms: mode.timeoutMs }, cancel };
          logger.info('Config try applied, waiting for confirmation', { deadline });
          return { applied, reboot_required: usePlan.reboot_required, saved: false, pending_try: pending.info };
        }
        let saved = false;
        try {
          await save(text);
          saved = true;
          logger.info('Machine config saved as last good copy', { path: PATHS.configOnVar, origin: 'api' });
        } catch (error) {
          logger.error('Cannot save machine config', { path: PATHS.configOnVar, error: describeError(error) });
        }
        return { applied, reboot_required: usePlan.reboot_required, saved };
      }),
    confirm: () =>
      serial(async () => {
        const tried = pending;
        if (tried === undefined) throw new ApiError(409, 'CONFIG_NO_TRY_PENDING', 'No config try is waiting for confirmation (it was confirmed already, or it reverted: GET /v1/config shows the config in force)');
        tried.cancel();
        pending = undefined;
        try {
          await save(tried.text);
        } catch (error) {
          logger.error('Cannot save machine config', { path: PATHS.configOnVar, error: describeError(error) });
          return { saved: false };
        }
        logger.info('Config try confirmed', { path: PATHS.configOnVar });
        return { saved: true };
      }),
  };
}
