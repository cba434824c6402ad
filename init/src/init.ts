/**
 * berth's init (PID 2 under berth-pid1): boots the machine stage by stage, announces
 * readiness, blesses the boot entry once the boot is healthy, and runs the orderly
 * shutdown on request. Every failure ends in a defined path: a failed boot prints
 * BERTH-FAILED and reboots; an unexpected error is logged and reboots in order. Started
 * again by berth-pid1 after its Node died (`restart`), it skips what a boot does once
 * (data partition, config takeover, blessing), replaces the old init's leftovers and
 * prints BERTH-RESTARTED instead of BERTH-READY.
 */
import { describeError, isBerthError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS, failedLine, readyLine, restartedLine, type Slot } from '../../lib/layout.ts';
import { BANNER_SETTLE_MS, containersSettled, renderBanner, type BannerContainer } from './core/banner.ts';
import { bootIdentity, type BootIdentity } from './core/boot-identity.ts';
import { planDebugShell } from './core/debug-shell.ts';
import { isSameNetwork } from './core/early-network.ts';
import { DEFAULT_MACHINE_CONFIG, type MachineConfig } from './core/machine-config.ts';
import { ETC_OVERLAY_DIRS, apiFilesystemMounts, efiMounts, etcOverlayMount } from './core/mount-plan.ts';
import { DEFAULT_GRACE_MS, planShutdown, powerActionFor, type PowerAction, type ShutdownTrigger } from './core/shutdown-plan.ts';
import { KERNEL_PATHS } from './core/tools.ts';
import type { InitRestart } from './core/restart.ts';
import { findDebugShellToAdopt, killStaleProcesses, loadConfigInForce } from './restart.ts';
import { blessBootEntry } from './bless.ts';
import { createReadinessHealth, type BootHealth } from './boot-health.ts';
import { setupCgroups } from './cgroups.ts';
import { applyHostname, loadBootConfig } from './config.ts';
import { createConfigApplier, type ConfigApplier, type ConfigApplyDeps } from './config-apply.ts';
import { prepareDataPartition } from './data-partition.ts';
import { startEtcd, type EtcdMember } from './etcd.ts';
import { startHostCoordinator, type HostCoordinator } from './fleet-coordinator.ts';
import { startDebugShell, type DebugShell } from './debug-shell.ts';
import { applyKernelSettings, applyTimeZone, startTimeSync } from './host-settings.ts';
import { loadKernelModules } from './kernel-modules.ts';
import type { InitLog } from './logging.ts';
import { applyMounts, readMountInfo } from './mounts.ts';
import type { Api, ApiOptions } from './api/index.ts';
import type { HostView } from './api/core/host-routes.ts';
import { beginNetwork, startNetwork, stopNetwork, type Network } from './network.ts';
import { watchPowerButtons } from './power-button.ts';
import { createCgroupServices, type Services } from './services.ts';
import { runShutdown } from './shutdown.ts';
import type { StreamHandle, Sys } from './sys/types.ts';
import type { Daemon } from './supervisor.ts';
import { StageError, createTimeline, type Timeline } from './timeline.ts';

/** The log file grows until it passes this size, then is rotated at the next boot. */
export const LOG_ROTATE_BYTES = 8 * 1024 * 1024;
export const INIT_LOG_FILE = PATHS.initLog;
/** Pause between BERTH-FAILED and the reboot. */
export const FAILED_REBOOT_DELAY_MS = 3000;
/** How often the banner looks again while containers are still starting. */
const BANNER_SETTLE_POLL_MS = 500;
/** Time the host daemons (dhcpcd, chronyd) get to exit at shutdown before SIGKILL. */
export const DAEMON_STOP_GRACE_MS = 5000;

export type InitState = 'booting' | 'running' | 'failed' | 'shutting-down';

export interface InitOptions {
  sys: Sys;
  /** Node's own pid, moved into init.scope. */
  pid: number;
  log: InitLog;
  health?: BootHealth;
  services?: Services;
  graceMs?: number;
  /** Called once when a shutdown starts (main.ts arms its deadline timer here). */
  onShutdownStart?: (action: PowerAction, done: Promise<void>) => void;
  /** Blesses the booted slot's entry (main.ts passes the updater's single blessing; default blessBootEntry). */
  blessBoot?: (slot: Slot) => Promise<void>;
  /** Called once after BERTH-READY (main.ts starts the update agent here); `reboot` is the orderly reboot. */
  onReady?: (ready: { identity: BootIdentity; config: MachineConfig; reboot: () => void }) => void;
  /** Starts the management API (main.ts passes api/index.ts startApi; unit tests leave it out). */
  startApi?: (options: ApiOptions) => Promise<Api>;
  /** Moves the containers to a config applied through the API (main.ts passes the engine's reconcile). */
  reconcileContainers?: ConfigApplyDeps['reconcileContainers'];
  /**
   * Set when berth-pid1 started this init again after the previous one died (core/restart.ts).
   * The services stage still calls services.start(config): the engine re-adopts the containers
   * that kept running instead of starting them again.
   */
  restart?: InitRestart;
  /**
   * Node's own start-up on its clock (ms since the process started): bootstrap done, berth.mjs
   * reached, and now. "Init starting" prints them (node_bootstrap_ms, node_entry_ms, node_ms), so
   * `berth analyze boot` and the bench split Node's start-up from loading berth's bundle; `from`
   * (node_from) says whether Node started from init's startup snapshot or the bundle.
   */
  nodeStartup?: () => { bootstrapMs: number; entryMs: number; nowMs: number; from?: string };
  /** This process's memory for the status (main.ts passes process.memoryUsage). */
  memory?: () => { rssBytes: number; heapUsedBytes: number };
  /** Called when the debug shell is enabled (main.ts arms the test-only crash triggers, debug-triggers.ts). */
  onDebugShell?: () => void;
  /**
   * Ends this Node process so berth-pid1 starts init again (main.ts exits with EXIT_FOR_RESTART).
   * Without it (unit tests) an unexpected error after BERTH-READY reboots as one before it does.
   */
  exitForRestart?: () => void;
}

/** Thrown between stages when a shutdown was requested during boot. */
class BootInterrupted extends Error {}

export class Init {
  private readonly sys: Sys;
  private readonly logger: Logger;
  private readonly timeline: Timeline;
  private readonly health: BootHealth;
  private readonly services: Services;
  private readonly graceMs: number;
  private stateValue: InitState = 'booting';
  private shutdownRequested = false;
  private bootPromise: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private debugShell: DebugShell | undefined;
  /** The old init's debug shell a restarted init keeps (restart-cleanup stage). */
  private adoptedShellPid: number | undefined;
  private powerButtons: StreamHandle | undefined;
  private blessing: Promise<void> | undefined;
  private network: Network | undefined;
  private readonly daemons: Daemon[] = [];
  private etcd: EtcdMember | undefined;
  private coordinator: HostCoordinator | undefined;
  private config: MachineConfig | undefined;
  /** Applies configs sent through the API; holds the config in force. */
  private configApplier: ConfigApplier | undefined;
  /** The running management API; components add their endpoints with `api.router.register`. */
  api: Api | undefined;
  identity: BootIdentity | undefined;

  constructor(private readonly options: InitOptions) {
    this.sys = options.sys;
    this.logger = options.log.logger;
    this.timeline = createTimeline(options.sys.fs, options.sys.clock, this.logger);
    this.health = options.health ?? createReadinessHealth();
    this.services = options.services ?? createCgroupServices(options.sys, this.logger);
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  }

  get state(): InitState {
    return this.stateValue;
  }

  /** Boots; never rejects. A failure prints BERTH-FAILED and starts an orderly reboot. */
  boot(): Promise<void> {
    this.bootPromise ??= this.runBoot();
    return this.bootPromise;
  }

  private async stage<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.shutdownRequested) throw new BootInterrupted();
    return this.timeline.stage(name, fn);
  }

  private async runBoot(): Promise<void> {
    try {
      const restart = this.options.restart;
      // Read right after the uptime, so t_ms - node_ms is when the process started.
      const tMs = await this.timeline.uptimeMs();
      const node = this.options.nodeStartup?.();
      this.logger.info(restart ? 'Init restarting' : 'Init starting', {
        pid: this.options.pid,
        t_ms: tMs,
        ...(node ? { node_ms: node.nowMs, node_bootstrap_ms: node.bootstrapMs, node_entry_ms: node.entryMs, ...(node.from ? { node_from: node.from } : {}) } : {}),
        ...(restart ? { restarts: restart.count, reason: restart.lastExit } : {}),
      });
      const identity = await this.bootStages();
      if (this.shutdownRequested) throw new BootInterrupted();
      this.identity = identity;
      const bootMs = (await this.timeline.uptimeMs()) ?? 0;
      this.stateValue = 'running';
      if (restart) {
        // BERTH-READY is the line of a boot; a restart says so in its own line.
        this.options.log.consoleLine(restartedLine(restart.count, restart.lastExit, identity.slot, identity.version));
        this.logger.info('Init restarted', { slot: identity.slot, version: identity.version, restarts: restart.count, reason: restart.lastExit });
      } else {
        this.options.log.consoleLine(readyLine(identity.slot, identity.version, bootMs));
        this.logger.info('Boot complete', { slot: identity.slot, version: identity.version, boot_ms: Math.round(bootMs) });
      }
      // Not awaited: the banner waits for the containers to settle, the ready hook does not.
      void this.showBanner(identity);
      if (this.config && this.options.onReady) {
        try {
          this.options.onReady({ identity, config: this.config, reboot: () => void this.requestShutdown('update') });
        } catch (error) {
          this.logger.error('Ready hook failed', { error: describeError(error) });
        }
      }
    } catch (error) {
      if (error instanceof BootInterrupted) {
        this.logger.info('Boot interrupted by shutdown');
        return;
      }
      this.stateValue = 'failed';
      const stage = error instanceof StageError ? error.stage : 'init';
      const cause = error instanceof StageError ? error.cause : error;
      const code = isBerthError(cause) ? cause.code : 'UNEXPECTED';
      this.logger.error('Boot failed', { stage, error: describeError(cause) });
      this.options.log.consoleLine(failedLine(`${stage}:${code}`));
      // A pause, so the reason can be read on a screen before the reboot (and a boot loop is not a tight loop).
      await this.sys.clock.sleep(FAILED_REBOOT_DELAY_MS);
      void this.requestShutdown('boot-failed');
      return;
    }
    void this.afterReady();
  }

  private async bootStages(): Promise<BootIdentity> {
    const { sys, logger } = this;
    await this.stage('mount-api', () => applyMounts(sys, logger, apiFilesystemMounts()));
    const restart = this.options.restart;
    if (restart) {
      // Before anything starts again: dhcpcd, chronyd and probes of the old init would run twice.
      await this.stage('restart-cleanup', async () => {
        this.adoptedShellPid = await findDebugShellToAdopt(sys);
        await killStaleProcesses(sys, logger, this.options.pid, this.adoptedShellPid === undefined ? [] : [this.adoptedShellPid]);
      });
    }
    // modprobe runs beside the stages up to mount-var (on another CPU, or while they wait for
    // their own processes): mount-efivarfs and mount-etc are the first to need its modules.
    // loadKernelModules never throws; a module that failed is a warning.
    const modulesLoaded = loadKernelModules(sys, logger);
    const identity = await this.stage('kernel-setup', async () => {
      // Init must be the last thing the OOM killer picks.
      await this.bestEffort('oom_score_adj', () => sys.fs.writeText(KERNEL_PATHS.oomScoreAdj, '-1000'));
      // 0: ctrl-alt-del sends SIGINT to PID 1 (berth-pid1 forwards it here) instead of an instant reboot.
      await this.bestEffort('ctrl-alt-del', () => sys.fs.writeText(KERNEL_PATHS.ctrlAltDel, '0'));
      return bootIdentity(await sys.fs.readText(KERNEL_PATHS.cmdline));
    });
    logger.info('Boot identity', { slot: identity.slot, version: identity.version });
    await this.stage('cgroups', () => setupCgroups(sys, logger, this.options.pid));
    await this.stage('mount-var', async () => {
      // Creating or growing the data partition is a boot's job; after a restart /var is still mounted.
      if (restart && (await readMountInfo(sys)).some((m) => m.target === PATHS.varDir)) {
        logger.info('Data partition kept from before the restart', { target: PATHS.varDir });
        return;
      }
      await prepareDataPartition(sys, logger);
    });
    // A full or broken /var costs the log file, not the boot: the console still has every line.
    await this.stage('log-file', () => this.bestEffort('log-file', () => this.openLogFile()));
    await this.stage('modules', () => modulesLoaded);
    await this.stage('mount-efivarfs', async () => applyMounts(sys, logger, efiMounts(await sys.fs.exists(KERNEL_PATHS.efiFirmware))));
    await this.stage('mount-etc', async () => {
      for (const dir of ETC_OVERLAY_DIRS) await sys.fs.makeDir(dir, 0o755);
      await applyMounts(sys, logger, [etcOverlayMount()]);
    });
    const choice = await this.stage('config', async () => {
      // A config fetched from a URL needs the network first: the default one (DHCP), kept for the 'network' stage.
      const startEarlyNetwork = async (): Promise<void> => {
        this.network ??= await startNetwork(sys, logger, DEFAULT_MACHINE_CONFIG.network);
        this.daemons.push(...this.network.daemons);
      };
      // A restart keeps the config in force; taking a source over is a boot's job.
      const loaded = (restart ? await loadConfigInForce(sys, logger) : undefined) ?? (await loadBootConfig({ sys, logger, startEarlyNetwork }));
      await this.bestEffort('hostname', () => applyHostname(sys.fs, logger, loaded.config));
      return loaded;
    });
    const config = choice.config;
    this.config = config;
    this.configApplier = createConfigApplier({
      sys,
      logger,
      initial: { config: choice.config, source: choice.source, origin: choice.origin },
      restartTimeSync: (servers) => this.restartTimeSync(servers),
      ...(this.options.reconcileContainers ? { reconcileContainers: this.options.reconcileContainers } : {}),
    });
    await this.stage('host-settings', async () => {
      await applyKernelSettings(sys, logger, config);
      await this.bestEffort('time-zone', () => applyTimeZone(sys.fs, logger, config.time_zone));
    });
    // Early, so the clock is stepped before services start; chronyd keeps trying until the network is up.
    await this.stage('time-sync', () =>
      this.bestEffort('time-sync', async () => {
        const chronyd = await startTimeSync(sys, logger, config.ntp.servers);
        if (chronyd) this.daemons.push(chronyd);
      }),
    );
    await this.stage('power-button', async () => {
      try {
        this.powerButtons = await watchPowerButtons(sys, logger, () => void this.requestShutdown('power-button'));
      } catch (error) {
        logger.warn('Power button not watched', { error: describeError(error) });
      }
    });
    await this.stage('debug-shell', () => {
      try {
        const plan = planDebugShell(choice.config.debug.shell);
        if (plan) {
          this.debugShell = startDebugShell(sys, logger, plan, this.adoptedShellPid);
          this.options.onDebugShell?.();
        }
      } catch (error) {
        logger.error('Debug shell not started', { error: describeError(error) });
      }
      return Promise.resolve();
    });
    await this.stage('network', async () => {
      const early = this.network;
      if (early && isSameNetwork(DEFAULT_MACHINE_CONFIG.network, config.network)) {
        // One dhcpcd per boot: the one started to fetch the config already runs these settings.
        logger.info('Network kept from the config fetch', { interfaces: early.interfaces.join(',') });
        return;
      }
      if (early) {
        await stopNetwork(sys, logger, early, DAEMON_STOP_GRACE_MS);
        this.daemons.splice(0, this.daemons.length, ...this.daemons.filter((daemon) => !early.daemons.includes(daemon)));
      }
      this.network = await beginNetwork(sys, logger, config.network);
      this.daemons.push(...this.network.daemons);
    });
    // The DHCP lease is awaited as late as possible: dhcpcd takes about a second from its start
    // to the lease under TCG, while the API starts beside it. etcd and the fleet coordinator
    // advertise and reach the host's addresses; the containers may need the network at once.
    let dhcpAwaited = false;
    const awaitDhcp = async (): Promise<void> => {
      if (dhcpAwaited) return;
      dhcpAwaited = true;
      await this.stage('dhcp', () => this.network?.dhcpSettled ?? Promise.resolve());
    };
    const etcd = config.etcd;
    if (etcd || config.fleet_coordinator) await awaitDhcp();
    if (etcd) {
      // After the network (peers reach it there), before the containers (which may use it).
      await this.stage('etcd', async () => {
        this.etcd = await startEtcd(sys, logger, etcd);
        this.daemons.push(this.etcd.daemon);
      });
    }
    if (config.fleet_coordinator) {
      // A failed coordinator costs the fleet one replica, not this host's boot.
      await this.stage('fleet-coordinator', () =>
        this.bestEffort('fleet-coordinator', async () => {
          this.coordinator = await startHostCoordinator(sys, logger, config);
        }),
      );
    }
    const startApi = this.options.startApi;
    // Before the services, so a slow or failing container start can be watched through the API.
    if (startApi) {
      await this.stage('api', () =>
        this.bestEffort('api', async () => {
          const apiOptions = { config, logger, logFile: INIT_LOG_FILE, apiVersion: identity.version, now: () => sys.clock.now() };
          this.api = await startApi({ ...apiOptions, host: this.apiHostView(identity, choice), ...(this.configApplier ? { configControl: this.configApplier } : {}) });
        }),
      );
    }
    await awaitDhcp();
    const services = this.services;
    if (services.start) await this.stage('services', () => services.start?.(choice.config) ?? Promise.resolve());
    return identity;
  }

  /** What the management API sees of init, and the power requests it may make. */
  private apiHostView(identity: BootIdentity, choice: { config: MachineConfig; source: string; origin: string }): HostView {
    return {
      identity: () => identity,
      state: () => this.stateValue,
      hostname: () => (this.configApplier?.current() ?? choice).config.hostname,
      config: () => this.configApplier?.current() ?? { config: choice.config, source: choice.source, origin: choice.origin },
      requestPower: (action) => void this.requestShutdown(action === 'reboot' ? 'api-reboot' : 'api-poweroff'),
      initProcess: () => {
        const memory = this.options.memory?.() ?? { rssBytes: 0, heapUsedBytes: 0 };
        return {
          pid: this.options.pid,
          restarts: this.options.restart?.count ?? 0,
          last_restart_reason: this.options.restart?.lastExit ?? null,
          rss_bytes: memory.rssBytes,
          heap_used_bytes: memory.heapUsedBytes,
        };
      },
    };
  }

  /**
   * For the boot health gate: the etcd member as a critical service, `['etcd']` while it does
   * not answer /health as healthy, empty when it does or the host is no member.
   */
  async unhealthyServices(): Promise<string[]> {
    if (!this.etcd) return [];
    return (await this.etcd.isHealthy()) ? [] : ['etcd'];
  }

  /** A config applied through the API changed ntp.servers: chronyd starts again with them (or stays stopped). */
  private async restartTimeSync(servers: readonly string[]): Promise<void> {
    const index = this.daemons.findIndex((daemon) => daemon.name === 'chronyd');
    const old = index === -1 ? undefined : this.daemons[index];
    if (old) {
      this.daemons.splice(index, 1);
      await old.stop(DAEMON_STOP_GRACE_MS);
    }
    const chronyd = await startTimeSync(this.sys, this.logger, servers);
    if (chronyd) this.daemons.push(chronyd);
  }

  /**
   * The console status banner (version, slot, host, addresses, containers), once the containers
   * have settled (healthy or not) or after BANNER_SETTLE_MS; never throws.
   */
  private async showBanner(identity: BootIdentity): Promise<void> {
    try {
      const containersNow = async (): Promise<BannerContainer[] | undefined> => (this.services.containers ? await this.services.containers() : undefined);
      const deadline = this.sys.clock.monotonicMs() + BANNER_SETTLE_MS;
      let containers = await containersNow();
      while (!containersSettled(containers) && this.sys.clock.monotonicMs() < deadline) {
        await this.sys.clock.sleep(BANNER_SETTLE_POLL_MS);
        if (this.shutdownRequested) return;
        containers = await containersNow();
      }
      const config = this.config;
      const lines = renderBanner({
        version: identity.version,
        slot: identity.slot,
        hostname: config?.hostname ?? '',
        timeZone: config?.time_zone ?? 'UTC',
        ntpServers: config?.ntp.servers ?? [],
        interfaces: this.network?.interfaces ?? [],
        addresses: (await this.network?.addresses()) ?? [],
        containers,
      });
      for (const line of lines) this.options.log.consoleLine(line);
    } catch (error) {
      this.logger.warn('Status banner not shown', { error: describeError(error) });
    }
  }

  private async openLogFile(): Promise<void> {
    const { fs } = this.sys;
    await fs.makeDir(PATHS.logDir, 0o755);
    await fs.makeDir(PATHS.stateDir, 0o755);
    const size = await fs.size(INIT_LOG_FILE);
    if (size !== undefined && size > LOG_ROTATE_BYTES) await fs.rename(INIT_LOG_FILE, `${INIT_LOG_FILE}.1`);
    this.options.log.attachFile(await fs.openAppend(INIT_LOG_FILE));
  }

  private async bestEffort(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.logger.warn('Setting not applied', { setting: what, error: describeError(error) });
    }
  }

  private async afterReady(): Promise<void> {
    let verdict;
    try {
      verdict = await this.health.verdict();
    } catch (error) {
      verdict = { status: 'indeterminate' as const, reason: describeError(error) };
    }
    if (this.shutdownRequested) return;
    this.logger.info('Boot status', { status: verdict.status, reason: verdict.reason });
    if (verdict.status === 'bad') {
      void this.requestShutdown('unhealthy');
      return;
    }
    if (verdict.status !== 'good' || !this.identity) return;
    if (this.options.restart) {
      // Blessing is once per boot: a boot whose init died is not proven good by its restart, and entries must not change now.
      this.logger.info('Boot entry left as is', { reason: 'init restarted' });
      return;
    }
    const bless = this.options.blessBoot ?? ((slot: Slot) => blessBootEntry(this.sys, this.logger, slot).then(() => undefined));
    this.blessing = bless(this.identity.slot).then(
      () => undefined,
      (error: unknown) => this.logger.error('Boot entry not blessed', { error: describeError(error) }),
    );
    await this.blessing;
  }

  /** Orderly shutdown; the first request wins, later ones get the same promise. */
  requestShutdown(trigger: ShutdownTrigger): Promise<void> {
    if (this.shutdownPromise) {
      this.logger.info('Shutdown already in progress', { trigger });
      return this.shutdownPromise;
    }
    this.shutdownRequested = true;
    const action = powerActionFor(trigger);
    this.shutdownPromise = this.runShutdown(trigger, action);
    this.options.onShutdownStart?.(action, this.shutdownPromise);
    return this.shutdownPromise;
  }

  private async runShutdown(trigger: ShutdownTrigger, action: PowerAction): Promise<void> {
    this.logger.info('Shutdown requested', { trigger, action });
    // Let a running boot stage finish so nothing is mounted behind the plan's back.
    if (this.bootPromise) await this.bootPromise;
    // The ESP must not be unmounted under a rename.
    if (this.blessing) await this.blessing;
    this.stateValue = 'shutting-down';
    this.powerButtons?.close();
    const steps = planShutdown({ action, mounted: await readMountInfo(this.sys), graceMs: this.graceMs });
    await runShutdown(
      {
        sys: this.sys,
        logger: this.logger,
        log: this.options.log,
        services: this.services,
        stopDebugShell: async () => {
          await this.debugShell?.stop();
        },
        stopDaemons: async () => {
          this.network?.stop();
          // The coordinator before etcd, so its last requests still find the member.
          await this.coordinator?.stop();
          await Promise.all(this.daemons.map((daemon) => daemon.stop(DAEMON_STOP_GRACE_MS)));
        },
      },
      steps,
    );
  }

  /** For uncaughtException / unhandledRejection: log, then reboot in order. */
  /**
   * An error nobody caught. Once the host is up, init's Node exits and berth-pid1 starts it
   * again: the containers run under their monitors and are adopted, so a bug in init costs
   * seconds, not every workload. During boot (or with no way to exit) the boot has failed:
   * an orderly reboot, and boot counting judges the slot.
   */
  handleUnexpected(error: unknown, origin: string): void {
    const restart = this.stateValue === 'running' && this.options.exitForRestart !== undefined;
    this.logger.error('Unexpected error', {
      origin,
      error: describeError(error),
      stack: error instanceof Error ? error.stack : undefined,
      action: restart ? 'restart-init' : 'reboot',
    });
    if (restart) this.options.exitForRestart?.();
    else void this.requestShutdown('unexpected-error');
  }
}
