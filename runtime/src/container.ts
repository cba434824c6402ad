/**
 * One supervised container: prepares its root (layers unpacked once, an overlay with its own
 * upper and work directories), writes its bundle, runs it with `crun run` under berth-monitor
 * (which holds its stdio, writes the json-file log and records its exit, so the container
 * outlives init's Node; a restarted engine adopts it), restarts it by its policy with backoff,
 * probes its health with `crun exec`, and stops it with the stop signal, the grace period and
 * SIGKILL. Effects: files, mounts and processes, through RuntimeSys.
 */
import { promises as fsp } from 'node:fs';
import type { ContainerConfig } from '../../lib/config/sections/containers.ts';
import { berthStateConflict, containerRisks, sharedNetworkOf, type VolumeSpec } from '../../lib/config/sections/containers.ts';
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Exec, ExecResult } from '../../lib/sys/exec.ts';
import { pathExists } from '../../lib/sys/path-exists.ts';
import { recordExit, recordRunning, recordStart, INITIAL_BACKOFF_STATE, type BackoffState } from './core/backoff.ts';
import { bundleFiles, containerSpecInput, execProcess, finishSpec, healthPlanOf, volumeDir, type HealthPlan } from './core/container-plan.ts';
import { CRUN_PATH, crunDeleteArgs, crunExecCommand, crunKillArgs, crunRunArgs, crunStateArgs, CRUN_STATE_DIR, MOUNT_PATH, overlayMountArgs } from './core/crun-args.ts';
import { buildOciSpec, resolveUser, type NetworkInput, type OciSpec } from './core/oci-spec.ts';
import { initialHealth, isDependencySatisfied, nextProbeAtMs, parseRestartPolicy, recordProbe, shouldRestart, type HealthState, type HealthStatus, type RestartPolicy } from './core/supervision.ts';
import type { LocalImages } from './images.ts';
import { DEFAULT_ROTATION } from './core/container-log.ts';
import { decideAdoption, MONITOR_FILES, monitorArgs, specHash, type FoundMonitor } from './core/monitor.ts';
import { ContainerLogReader } from './log-reader.ts';
import { readExitFile, type MonitorLink, type MonitorSys } from './monitor.ts';
import type { NetworkAttacher, NetworkAttachment, NetworkContainer } from './network.ts';
import { killProcessTree, readPidFile } from './process-tree.ts';
import type { BlobStore } from './store/blobs.ts';
import { readFileInRoot } from './store/rootfs-read.ts';

const UMOUNT_PATH = '/usr/bin/umount';
/** crun and mount run with exactly this environment. */
export const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** Health-probe output kept per stream (Docker keeps 4 KiB); the rest is drained and dropped. */
export const PROBE_OUTPUT_MAX_BYTES = 4096;

/** API exec output kept per stream unless the caller asks for less; the rest is drained and dropped. */
export const EXEC_OUTPUT_MAX_BYTES = 1024 * 1024;

/** The effects a container needs beyond plain files. */
export interface RuntimeSys {
  exec: Exec;
  /** Starts and finds berth-monitor processes (one per running container). */
  monitors: MonitorSys;
  nowMs(): number;
  now(): Date;
  /** Milliseconds since kernel start (init's `t_ms` clock) for lifecycle lines; absent in fakes. */
  uptimeMs?: () => number;
}

/** Where the engine keeps things; one object for all containers. */
export interface RuntimePaths {
  layersDir: string;
  /** Per container: <dir>/<name>/{upper,work,image}. */
  containersDir: string;
  /** Per container bundle: <dir>/<name>/{config.json,rootfs,hosts,...}. */
  bundlesDir: string;
  logDir: string;
  volumesDir: string;
  /** The host's resolv.conf. */
  hostResolvConf: string;
}

export type ContainerState = 'waiting' | 'preparing' | 'running' | 'restarting' | 'exited' | 'failed' | 'stopped';

/** What status, the banner, dependants and the boot verdict see. */
export interface ContainerStatus {
  name: string;
  state: ContainerState;
  health?: HealthStatus;
  restartCount: number;
  exitCode?: number;
  critical: boolean;
  pid?: number;
  /** Why it failed (state failed). */
  error?: string;
}

export interface ContainerDeps {
  sys: RuntimeSys;
  logger: Logger;
  images: LocalImages;
  store: BlobStore;
  paths: RuntimePaths;
  attacher?: NetworkAttacher;
  /** Another container of the engine, for depends_on and container:<name>. */
  peer(name: string): Container | undefined;
}

/** A sleep that stop() cuts short. */
class Waker {
  private wake: (() => void) | undefined;
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
  interrupt(): void {
    this.wake?.();
  }
}

export class Container {
  private state: ContainerState = 'waiting';
  private restartCount = 0;
  private exitCode: number | undefined;
  private error: string | undefined;
  private health: HealthState | undefined;
  private healthPlan: HealthPlan | undefined;
  private backoff: BackoffState = { ...INITIAL_BACKOFF_STATE };
  private readonly policy: RestartPolicy;
  private stopping = false;
  private readonly waker = new Waker();
  private current: MonitorLink | undefined;
  /** A live monitor of an earlier init, offered by the engine before start(). */
  private found: MonitorLink | undefined;
  /** specHash() of what the current run was started with (written beside the monitor). */
  private specHash: string | undefined;
  private killedUnhealthy = false;
  private execCount = 0;
  private spec: OciSpec | undefined;
  private mounted = false;
  /**
   * The image config digest a run that ended (exited, no restart) left its root mounted and its
   * bundle written for: a start on request runs on them again without preparing. Only for
   * network_mode none and host: a CNI address goes back to the pool when the run ends, and a
   * shared namespace is another container's, which may have restarted since.
   */
  private keptPreparedFor: string | undefined;
  /** The image config digest the current preparation is for, and the host resolv.conf its bundle copied. */
  private preparedImage: string | undefined;
  private preparedResolvConf = '';
  private attachment: NetworkAttachment | undefined;
  private loop: Promise<void> | undefined;
  /** When the current (or last) run began, wall clock. */
  private startedAt: Date | undefined;
  private readonly logger: Logger;
  private readonly log: ContainerLogReader;
  private readonly bundleDir: string;
  private readonly stateDir: string;
  /** berth-monitor's directory (tmpfs: nothing in it outlives a reboot, as no container does). */
  private readonly monitorDir: string;

  constructor(
    readonly name: string,
    readonly config: ContainerConfig,
    private readonly deps: ContainerDeps,
  ) {
    this.logger = deps.logger.child({ container: name });
    this.policy = parseRestartPolicy(config.restart);
    this.bundleDir = `${deps.paths.bundlesDir}/${name}`;
    this.stateDir = `${deps.paths.containersDir}/${name}`;
    this.monitorDir = `${this.bundleDir}/monitor`;
    this.log = new ContainerLogReader(`${deps.paths.logDir}/${name}.log`, DEFAULT_ROTATION.maxFiles);
  }

  get critical(): boolean {
    return this.config['x-berth'].critical;
  }

  status(): ContainerStatus {
    const status: ContainerStatus = { name: this.name, state: this.state, restartCount: this.restartCount, critical: this.critical };
    if (this.health !== undefined) status.health = this.health.status;
    if (this.exitCode !== undefined) status.exitCode = this.exitCode;
    if (this.current?.pid !== undefined && this.state === 'running') status.pid = this.current.pid;
    if (this.error !== undefined) status.error = this.error;
    return status;
  }

  /** Whether the container has (or will have, once its image is read) a health check. */
  get hasHealthcheck(): boolean {
    return this.healthPlan !== undefined;
  }

  /** Starts supervising in the background; `done` resolves when it ends for good. */
  start(): void {
    this.loop ??= this.supervise().catch((error: unknown) => {
      this.fail(error);
    });
  }

  private fail(error: unknown): void {
    this.state = 'failed';
    this.error = describeError(error);
    this.logger.error('Container failed', { error: this.error });
  }

  private async supervise(): Promise<void> {
    // A run an earlier init started (adopted: resolves when it ends) or ended while init was down.
    const taken = await this.takeOver().catch((error: unknown) => {
      this.logger.warn('Container not adopted, starting it afresh', { error: describeError(error) });
      return undefined;
    });
    let exit = taken?.exitCode;
    let isPrepared = taken?.isPrepared ?? false;
    while (!this.stopping) {
      if (exit === undefined) {
        if (!isPrepared) {
          if (!(await this.waitAndPrepare())) return;
          isPrepared = true;
        }
        exit = await this.runOnce();
      }
      if (this.stopping) break;
      const unhealthy = this.killedUnhealthy;
      this.killedUnhealthy = false;
      const again = shouldRestart(this.policy, { exitCode: exit, stoppedOnPurpose: false, restartCount: this.restartCount, unhealthy });
      if (!again) {
        this.state = 'exited';
        this.logger.info('Container exited', { exit_code: exit, restart: this.config.restart, t_ms: this.sys.uptimeMs?.() });
        if (this.mounted && (this.config.network_mode === 'none' || this.config.network_mode === 'host') && this.preparedImage !== undefined) {
          // Ready for a start on request; stop(), a removal or the shutdown unmounts it.
          this.keptPreparedFor = this.preparedImage;
          return;
        }
        break;
      }
      const decision = recordExit(this.backoff, this.sys.nowMs());
      this.backoff = decision.state;
      this.restartCount += 1;
      this.state = 'restarting';
      this.logger.warn('Container restarting', { exit_code: exit, restart_count: this.restartCount, delay_ms: decision.delayMs, reason: unhealthy ? 'unhealthy' : 'exited', t_ms: this.sys.uptimeMs?.() });
      await this.waker.sleep(decision.delayMs);
      exit = undefined;
    }
    if (this.stopping) this.state = 'stopped';
    await this.cleanup();
  }

  /** Dependencies, then image, root and bundle; false (state stopped or failed, cleaned up) when it cannot run. */
  private async waitAndPrepare(): Promise<boolean> {
    await this.waitForDependencies();
    if (this.stopping) {
      this.state = 'stopped';
      return false;
    }
    this.state = 'preparing';
    // t_ms on lifecycle lines: a boot chart draws each container from creating to running or healthy.
    this.logger.info('Container creating', { t_ms: this.sys.uptimeMs?.() });
    try {
      if (await this.reusePreparation()) {
        this.logger.info('Container created', { kept: 'root and bundle of the last run', t_ms: this.sys.uptimeMs?.() });
        return true;
      }
      await this.prepare();
      this.logger.info('Container created', { t_ms: this.sys.uptimeMs?.() });
      return true;
    } catch (error) {
      this.fail(error);
      await this.cleanup();
      return false;
    }
  }

  /**
   * Gives the container a live monitor an earlier init started (the engine found it before
   * start()); supervise() adopts the run, or stops it when the config changed.
   */
  offerRunning(link: MonitorLink): void {
    this.found = link;
  }

  /**
   * What an earlier init left (core/monitor.ts decideAdoption): a live run with the same spec is
   * adopted — same pid, health probes and restart policy resume — and this resolves with its exit
   * code when it ends; a live run with another spec is stopped; an exit recorded while init was
   * down resolves at once with that code, so the restart policy applies. Undefined: start afresh.
   */
  private async takeOver(): Promise<{ exitCode: number; isPrepared: boolean } | undefined> {
    const link = this.found;
    this.found = undefined;
    const recorded = link === undefined ? await readExitFile(this.monitorDir) : undefined;
    if (link === undefined && recorded === undefined) return undefined;
    const stored = (await fsp.readFile(`${this.monitorDir}/${MONITOR_FILES.specHash}`, 'utf8').catch(() => '')).trim();
    const image = await this.deps.images.resolve(this.config.image, this.deps.paths.layersDir);
    const wanted = specHash(this.config, image.config.digest);
    const found: FoundMonitor = { isLive: link !== undefined };
    if (recorded !== undefined) found.exit = recorded;
    if (stored !== '') found.storedSpecHash = stored;
    const decision = decideAdoption(found, wanted);
    // The root stays mounted while init restarts: cleanup() unmounts it when the container ends.
    this.mounted = true;
    if (decision.kind === 'adopt' && link !== undefined) {
      this.specHash = wanted;
      this.healthPlan = healthPlanOf(this.config, image.config);
      this.spec = JSON.parse(await fsp.readFile(`${this.bundleDir}/config.json`, 'utf8')) as OciSpec;
      const mode = this.config.network_mode;
      if (mode !== 'host' && mode !== 'none' && sharedNetworkOf(mode) === undefined) this.attachment = await this.deps.attacher?.adopt?.(this.networkContainer());
      this.startedAt = (await fsp.stat(`${this.monitorDir}/${MONITOR_FILES.monitorPid}`).catch(() => undefined))?.mtime ?? this.sys.now();
      this.logger.info('Container adopted', { pid: link.pid, ip: this.attachment?.ip, t_ms: this.sys.uptimeMs?.() });
      return { exitCode: await this.watchRun(link, this.sys.nowMs()), isPrepared: true };
    }
    if (decision.kind === 'apply-exit') {
      this.logger.info('Container exited while init was down', { exit_code: decision.exit.exitCode, signal: decision.exit.signal, finished_at: decision.exit.finishedAt });
      await this.sys.exec.run(CRUN_PATH, crunDeleteArgs(this.name, { force: true }), { env: TOOL_ENV, okExitCodes: [0, 1] }).catch(() => undefined);
      await fsp.rm(`${this.monitorDir}/${MONITOR_FILES.exit}`, { force: true });
      this.exitCode = decision.exit.exitCode;
      // Its network was removed at engine start (only running containers keep theirs): prepare again to run it.
      return { exitCode: decision.exit.exitCode, isPrepared: false };
    }
    if (link !== undefined) {
      this.logger.warn('Container changed while init was down, restarting it', { pid: link.pid });
      await this.stopRun(link, this.config.stop_grace_period);
      link.close();
    }
    return undefined;
  }

  private get sys(): RuntimeSys {
    return this.deps.sys;
  }

  /** Waits until every depends_on condition holds (polling; dependencies change state rarely). */
  private async waitForDependencies(): Promise<void> {
    const wanted = Object.entries(this.config.depends_on).map(([name, { condition }]) => ({ name, condition }));
    const shared = sharedNetworkOf(this.config.network_mode);
    if (shared !== undefined) wanted.push({ name: shared, condition: 'service_started' });
    let logged = false;
    const warnedNoHealthcheck = new Set<string>();
    while (!this.stopping) {
      const pending = wanted.filter(({ name, condition }) => {
        const peer = this.deps.peer(name);
        if (peer === undefined) return true;
        const s = peer.status();
        const state: { running: boolean; health?: HealthStatus; exitCode?: number } = { running: s.state === 'running' };
        if (s.health !== undefined) state.health = s.health;
        if (s.state === 'exited' && s.exitCode !== undefined) state.exitCode = s.exitCode;
        return !isDependencySatisfied(condition, state);
      });
      if (pending.length === 0) return;
      for (const { name, condition } of pending) {
        const peer = this.deps.peer(name);
        // Only known once the peer's image is read: a service_healthy wait on it would never end.
        if (condition === 'service_healthy' && peer?.status().state === 'running' && !peer.hasHealthcheck && !warnedNoHealthcheck.has(name)) {
          warnedNoHealthcheck.add(name);
          this.logger.error('Dependency has no health check', { dependency: name, condition, hint: `give ${name} a healthcheck or use condition service_started` });
        }
      }
      if (!logged) {
        this.logger.info('Container waiting for dependencies', { waiting_for: pending.map((p) => `${p.name}:${p.condition}`).join(',') });
        logged = true;
      }
      await this.waker.sleep(200);
    }
  }

  /**
   * Whether the root and bundle an exited run left are still good for this run: kept after that
   * run, still mounted, the image reference still names the image they were made from (a
   * newer pull of it gets a fresh preparation, and its writable layer reset, as always), and
   * the host's resolv.conf is what the bundle's copy was made from. Otherwise what was kept is
   * released and the run prepares afresh.
   */
  private async reusePreparation(): Promise<boolean> {
    const kept = this.keptPreparedFor;
    this.keptPreparedFor = undefined;
    if (kept === undefined) return false;
    const resolvConf = await fsp.readFile(this.deps.paths.hostResolvConf, 'utf8').catch(() => '');
    if (this.mounted && this.deps.images.localConfigDigest(this.config.image) === kept && resolvConf === this.preparedResolvConf && (await pathExists(`${this.bundleDir}/config.json`))) {
      this.preparedImage = kept;
      return true;
    }
    await this.cleanup();
    return false;
  }

  /** Image, layers, overlay root, network, bundle files and config.json. */
  private async prepare(): Promise<void> {
    this.preparedImage = undefined;
    const image = await this.deps.images.resolve(this.config.image, this.deps.paths.layersDir);
    const { layerDirs, unpacked: unpackedNow } = await this.deps.images.unpack(image, this.deps.paths.layersDir, this.config.image);
    const unpacked = [...image.unpackedWhilePulling, ...unpackedNow];
    if (unpacked.length > 0) this.logger.info('Image layers unpacked', { layers: unpacked.length, bytes: unpacked.reduce((n, u) => n + u.unpackedBytes, 0) });
    this.healthPlan = healthPlanOf(this.config, image.config);
    this.specHash = specHash(this.config, image.config.digest);

    await fsp.mkdir(this.bundleDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.deps.paths.logDir, { recursive: true, mode: 0o755 });
    // A container keeps its writable layer across restarts and reboots, unless its image changed.
    const imageFile = `${this.stateDir}/image`;
    const previous = await fsp.readFile(imageFile, 'utf8').catch(() => '');
    if (previous !== image.config.digest) {
      await fsp.rm(`${this.stateDir}/upper`, { recursive: true, force: true });
      await fsp.rm(`${this.stateDir}/work`, { recursive: true, force: true });
      await fsp.writeFile(imageFile, image.config.digest);
    }
    await fsp.mkdir(`${this.stateDir}/upper`, { recursive: true, mode: 0o755 });
    await fsp.mkdir(`${this.stateDir}/work`, { recursive: true, mode: 0o700 });
    const rootfs = `${this.bundleDir}/rootfs`;
    await fsp.mkdir(rootfs, { recursive: true });
    // A root left mounted (init died before its cleanup) is unmounted first; checked here, as an umount spawned for nothing costs ~50 ms under emulation.
    if (await isMountPoint(rootfs)) await this.sys.exec.run(UMOUNT_PATH, [rootfs], { env: TOOL_ENV, okExitCodes: [0, 1, 32] });
    const mount = overlayMountArgs(this.deps.paths.layersDir, layerDirs, `${this.stateDir}/upper`, `${this.stateDir}/work`, rootfs);
    await this.sys.exec.run(MOUNT_PATH, mount.args, { env: TOOL_ENV, cwd: mount.cwd });
    this.mounted = true;

    for (const volume of this.config.volumes) {
      if (volume.type === 'volume') await fsp.mkdir(`${this.deps.paths.volumesDir}/${volume.source}`, { recursive: true, mode: 0o755 });
      if (volume.type === 'bind') await fsp.mkdir(volume.source, { recursive: true, mode: 0o755 });
    }
    const volumes = await this.resolveVolumeSources();

    const passwd = (await readFileInRoot(rootfs, '/etc/passwd'))?.toString('utf8') ?? '';
    const group = (await readFileInRoot(rootfs, '/etc/group'))?.toString('utf8') ?? '';
    const user = resolveUser(this.config.user ?? image.config.user, passwd, group);
    const network = await this.network();
    const spec = finishSpec(
      buildOciSpec(containerSpecInput({ name: this.name, container: { ...this.config, volumes }, image: image.config, user, paths: { bundleDir: this.bundleDir, rootfs }, network, volumesDir: this.deps.paths.volumesDir })),
    );
    this.spec = spec;
    if (this.config.privileged) this.logger.warn('Container is privileged', { image: this.config.image });
    for (const risk of containerRisks(this.config)) this.logger.warn('Container isolation weakened', { setting: risk.path.join('.'), reason: risk.message });
    const hostResolvConf = await fsp.readFile(this.deps.paths.hostResolvConf, 'utf8').catch(() => '');
    const files = bundleFiles({
      spec,
      dns: this.config.dns,
      extraHosts: this.config.extra_hosts,
      hostResolvConf,
      hostNetwork: network.mode === 'host',
      ...(this.attachment !== undefined ? { attachment: this.attachment } : {}),
      ...(this.healthPlan !== undefined ? { healthArgv: this.healthPlan.argv } : {}),
    });
    for (const file of files) {
      await fsp.writeFile(`${this.bundleDir}/${file.name}`, file.content, file.mode === undefined ? {} : { mode: file.mode });
    }
    this.preparedImage = image.config.digest;
    this.preparedResolvConf = hostResolvConf;
  }

  /**
   * The volumes with every host source resolved (symlinks included) to the path crun will bind,
   * so a symlink swapped in later is not followed; refuses a source that lands on berth's own
   * state or an ancestor of it (a symlink planted in a volume, a volume directory that is one).
   */
  private async resolveVolumeSources(): Promise<VolumeSpec[]> {
    return Promise.all(
      this.config.volumes.map(async (volume, index): Promise<VolumeSpec> => {
        if (volume.type === 'tmpfs') return volume;
        const source = volume.type === 'volume' ? volumeDir(volume.source, this.deps.paths.volumesDir) : volume.source;
        const real = await fsp.realpath(source);
        const conflict = berthStateConflict(real);
        if (conflict !== undefined) {
          throw new BerthError(
            'RUNTIME_VOLUME_UNSAFE',
            `Refusing volume ${index} ("${volume.source}:${volume.target}") of container ${this.name}: ${source} resolves to ${real}, which ${conflict}; remove the symlink or bind another directory`,
          );
        }
        return { type: 'bind', source: real, target: volume.target, readOnly: volume.readOnly };
      }),
    );
  }

  private async network(): Promise<NetworkInput> {
    const mode = this.config.network_mode;
    if (mode === 'host') return { mode: 'host' };
    if (mode === 'none') return { mode: 'none' };
    const shared = sharedNetworkOf(mode);
    if (shared !== undefined) {
      const pid = await this.deps.peer(shared)?.crunPid();
      if (pid === undefined) throw new BerthError('RUNTIME_NETWORK_UNAVAILABLE', `Container ${this.name} shares the network of ${shared}, which is not running`);
      return { mode: 'container', namespacePath: `/proc/${pid}/ns/net` };
    }
    if (this.deps.attacher === undefined) {
      throw new BerthError('RUNTIME_NETWORK_UNAVAILABLE', `Container ${this.name} needs bridge networking, which this host does not provide yet; set network_mode: host or none`);
    }
    this.attachment = await this.deps.attacher.attach(this.networkContainer());
    return { mode: 'bridge', namespacePath: this.attachment.netnsPath };
  }

  /** What the attacher is told about this container. */
  private networkContainer(): NetworkContainer {
    return {
      name: this.name,
      ports: this.config.ports,
      hostname: this.config.hostname ?? this.name,
      dns: this.config.dns,
      extraHosts: this.config.extra_hosts,
      // The attacher owns this file from now on and keeps its peers current.
      hostsFile: `${this.bundleDir}/hosts`,
    };
  }

  /** The pid of the container's init as crun reports it (for container:<name> sharing). */
  async crunPid(): Promise<number | undefined> {
    try {
      const { stdout } = await this.sys.exec.run(CRUN_PATH, crunStateArgs(this.name), { env: TOOL_ENV, timeoutMs: 10_000 });
      const state = JSON.parse(stdout) as { pid?: unknown; status?: unknown };
      return typeof state.pid === 'number' && state.status === 'running' ? state.pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** One run: crun run under a new berth-monitor until the container exits. Returns its exit code. */
  private async runOnce(): Promise<number> {
    this.logger.info('Container starting', { restart_count: this.restartCount, t_ms: this.sys.uptimeMs?.() });
    // crun's state of an earlier run is normally deleted when that run ends; one left behind (init died in between) would make `crun run` refuse the id.
    if (await pathExists(`${CRUN_STATE_DIR}/${this.name}`)) {
      await this.sys.exec.run(CRUN_PATH, crunDeleteArgs(this.name, { force: true }), { env: TOOL_ENV, okExitCodes: [0, 1] }).catch(() => undefined);
    }
    await fsp.mkdir(this.monitorDir, { recursive: true, mode: 0o700 });
    await fsp.rm(`${this.monitorDir}/${MONITOR_FILES.exit}`, { force: true });
    // A restarted engine adopts this run only if its config still asks for the same thing.
    await fsp.writeFile(`${this.monitorDir}/${MONITOR_FILES.specHash}`, `${this.specHash ?? ''}\n`, { mode: 0o600 });
    const runStartedAt = this.sys.now();
    const cgroup = await this.sys.monitors.cgroup();
    // crun and the container's processes start at OOM score adjustment 0, not init's -1000: the monitor sets it before it execs crun.
    const args = monitorArgs(
      { stateDir: this.monitorDir, logFile: this.log.path, rotation: DEFAULT_ROTATION, oomScoreAdj: 0, ...(cgroup === undefined ? {} : { cgroup }) },
      CRUN_PATH,
      crunRunArgs(this.name, { bundle: this.bundleDir }),
    );
    let link: MonitorLink;
    try {
      link = await this.sys.monitors.start(this.monitorDir, args, TOOL_ENV);
    } catch (error) {
      // As a crun that could not start: the restart policy decides, with its backoff.
      this.logger.error('Container monitor not started', { error: describeError(error) });
      return 127;
    }
    this.startedAt = runStartedAt;
    this.logger.info('Container started', { pid: link.pid, restart_count: this.restartCount, t_ms: this.sys.uptimeMs?.() });
    // When the monitor read the first byte (kernel-start clock, so it may precede the line above): start latency as a user sees it.
    link.onFirstOutput((stream, uptimeMs) => this.logger.info('Container first output', { stream, restart_count: this.restartCount, t_ms: uptimeMs }));
    return this.watchRun(link, this.sys.nowMs());
  }

  /** Supervises one run held by `link` (just started or adopted) until it ends. Returns its exit code. */
  private async watchRun(link: MonitorLink, startedAt: number): Promise<number> {
    this.current = link;
    this.backoff = recordStart(this.backoff, startedAt);
    this.state = 'running';
    const probing = this.probeLoop(link, startedAt);
    const { exitCode, signal } = await link.exited;
    link.close();
    this.current = undefined;
    this.exitCode = exitCode;
    await probing;
    await this.sys.exec.run(CRUN_PATH, crunDeleteArgs(this.name, { force: true }), { env: TOOL_ENV, okExitCodes: [0, 1] }).catch(() => undefined);
    if (!this.stopping && exitCode !== 0) {
      this.logger.warn('Container crashed', { exit_code: exitCode, signal });
      const lines = await this.log.lastLines(10, this.startedAt ?? new Date(0)).catch(() => []);
      for (const line of lines) this.logger.warn('Container output', { line });
    }
    // Handled: an exit.json found at the next engine start is one that happened while init was down.
    await fsp.rm(`${this.monitorDir}/${MONITOR_FILES.exit}`, { force: true });
    return exitCode;
  }

  /** Health probes while `child` runs; an unhealthy container is killed (the policy restarts it). */
  private async probeLoop(child: Pick<MonitorLink, 'exited'>, startedAt: number): Promise<void> {
    const plan = this.healthPlan;
    if (plan === undefined) {
      this.health = undefined;
      return;
    }
    let exited = false;
    void child.exited.then(() => {
      exited = true;
    });
    this.health = initialHealth(startedAt);
    let next = startedAt + (plan.policy.startPeriodMs > 0 ? plan.policy.startIntervalMs : plan.policy.intervalMs);
    while (!exited && !this.stopping) {
      const wait = next - this.sys.nowMs();
      if (wait > 0) await this.probeSleep(wait, child);
      if (exited || this.stopping) break;
      const passed = await this.probe(plan);
      if (exited || this.stopping) break;
      const now = this.sys.nowMs();
      const before = this.health.status;
      this.health = recordProbe(this.health, passed, now, plan.policy);
      if (this.health.status === 'healthy') this.backoff = recordRunning(this.backoff, now);
      if (this.health.status !== before) this.logger.info('Container health changed', { health: this.health.status, failing_streak: this.health.failingStreak, t_ms: this.sys.uptimeMs?.() });
      if (this.health.status === 'unhealthy' && this.policy.kind !== 'no') {
        this.logger.warn('Container unhealthy, restarting', { failing_streak: this.health.failingStreak });
        this.killedUnhealthy = true;
        await this.kill('SIGKILL');
        break;
      }
      next = nextProbeAtMs(this.health, now, plan.policy);
    }
  }

  private async probeSleep(ms: number, child: Pick<MonitorLink, 'exited'>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), child.exited.then(() => undefined)]);
    if (timer) clearTimeout(timer);
  }

  private async probe(plan: HealthPlan): Promise<boolean> {
    const pidFile = `${this.bundleDir}/probe.pid`;
    try {
      await fsp.rm(pidFile, { force: true });
      const probe = crunExecCommand(this.name, { processFile: `${this.bundleDir}/probe.json`, pidFile });
      // Docker keeps 4 KiB of probe output; an endless writer is drained, not kept.
      await this.sys.exec.run(probe.file, probe.args, { env: TOOL_ENV, timeoutMs: plan.policy.timeoutMs, maxOutputBytes: PROBE_OUTPUT_MAX_BYTES, onTimeout: (crunPid) => this.killExecTree(pidFile, crunPid) });
      return true;
    } catch (error) {
      this.logger.debug('Health probe failed', { error: describeError(error) });
      return false;
    }
  }

  /**
   * Kills what a timed-out `crun exec` started in the container: the pid crun wrote and its
   * descendants, and crun's own descendants (a slow crun may not have written the pid file yet
   * while its process already runs). Killing crun alone leaves them running and holding the
   * output pipe.
   */
  private async killExecTree(pidFile: string, crunPid: number | undefined): Promise<void> {
    const pid = await readPidFile(pidFile);
    const roots = [pid, crunPid].filter((p): p is number => p !== undefined);
    if (roots.length === 0) return;
    const killed = await killProcessTree(roots);
    this.logger.info('Timed-out exec killed', { pid: pid ?? null, crun_pid: crunPid ?? null, processes: killed.length });
  }

  private async kill(signal: string): Promise<void> {
    try {
      await this.sys.exec.run(CRUN_PATH, crunKillArgs(this.name, signal, { all: signal === 'SIGKILL' }), { env: TOOL_ENV, timeoutMs: 10_000 });
    } catch (error) {
      this.logger.debug('crun kill failed', { signal, error: describeError(error) });
    }
  }

  /** Stops for good: stop signal, up to `graceMs` (at most stop_grace_period), then SIGKILL. Never throws. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.waker.interrupt();
    const child = this.current;
    if (child !== undefined) await this.stopRun(child, Math.min(graceMs, this.config.stop_grace_period));
    await this.loop;
    // An exited container kept its root mounted for a start on request: released here.
    if (this.keptPreparedFor !== undefined) {
      this.keptPreparedFor = undefined;
      await this.cleanup();
    }
  }

  /** The stop signal, up to `grace` ms for the run to end, then SIGKILL. */
  private async stopRun(run: Pick<MonitorLink, 'exited'>, grace: number): Promise<void> {
    this.logger.info('Stopping container', { signal: this.config.stop_signal, grace_ms: grace });
    await this.kill(this.config.stop_signal);
    const inTime = await Promise.race([run.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), grace).unref())]);
    if (!inTime) {
      this.logger.warn('Container did not stop in time, killing');
      await this.kill('SIGKILL');
      await Promise.race([run.exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
  }

  private async cleanup(): Promise<void> {
    this.preparedImage = undefined;
    await this.sys.exec.run(CRUN_PATH, crunDeleteArgs(this.name, { force: true }), { env: TOOL_ENV, okExitCodes: [0, 1] }).catch(() => undefined);
    if (this.mounted) {
      await this.sys.exec.run(UMOUNT_PATH, [`${this.bundleDir}/rootfs`], { env: TOOL_ENV }).catch((error: unknown) => {
        this.logger.warn('Container root not unmounted', { error: describeError(error) });
      });
      this.mounted = false;
    }
    if (this.attachment !== undefined) {
      await this.attachment.detach().catch((error: unknown) => this.logger.warn('Network not detached', { error: describeError(error) }));
      this.attachment = undefined;
    }
  }

  /**
   * Runs `argv` in the running container (`crun exec`) as its own process runs: same user,
   * environment, capabilities. Non-zero exits are returned, not thrown.
   */
  async exec(argv: readonly string[], options: { timeoutMs?: number; maxOutputBytes?: number } = {}): Promise<ExecResult> {
    const spec = this.spec;
    if (spec === undefined || this.state !== 'running') throw new BerthError('RUNTIME_CONTAINER_NOT_RUNNING', `Container ${this.name} is not running (${this.state})`);
    if (argv.length === 0) throw new BerthError('RUNTIME_SPEC_INVALID', `Nothing to run in container ${this.name}`);
    const file = `${this.bundleDir}/exec-${process.pid}-${++this.execCount}.json`;
    const pidFile = file.replace(/\.json$/, '.pid');
    await fsp.writeFile(file, JSON.stringify(execProcess(spec, argv)), { mode: 0o600 });
    try {
      const okExitCodes = Array.from({ length: 256 }, (_, i) => i);
      const command = crunExecCommand(this.name, { processFile: file, pidFile });
      return await this.sys.exec.run(command.file, command.args, {
        env: TOOL_ENV,
        okExitCodes,
        timeoutMs: options.timeoutMs ?? 60_000,
        maxOutputBytes: options.maxOutputBytes ?? EXEC_OUTPUT_MAX_BYTES,
        onTimeout: (crunPid) => this.killExecTree(pidFile, crunPid),
      });
    } finally {
      await fsp.rm(file, { force: true });
      await fsp.rm(pidFile, { force: true });
    }
  }

  /** Facts beyond status() for inspection: when the last run began, the bridge address. */
  details(): { startedAt?: Date; ip?: string; gateway?: string } {
    const out: { startedAt?: Date; ip?: string; gateway?: string } = {};
    if (this.startedAt !== undefined) out.startedAt = this.startedAt;
    if (this.attachment?.ip !== undefined) out.ip = this.attachment.ip;
    if (this.attachment?.gateway !== undefined) out.gateway = this.attachment.gateway;
    return out;
  }

  /**
   * Supervises the container again after it stopped, exited for good or failed (an operator's
   * start). Returns false, changing nothing, while it is still supervised (running, restarting,
   * waiting, preparing).
   */
  async resume(): Promise<boolean> {
    const ended = (): boolean => this.state === 'stopped' || this.state === 'exited' || this.state === 'failed';
    if (!ended()) return false;
    // The loop may still be cleaning up (unmount, detach): a new run starts after it.
    await this.loop;
    if (!ended()) return false;
    this.stopping = false;
    this.error = undefined;
    this.killedUnhealthy = false;
    this.backoff = { ...INITIAL_BACKOFF_STATE };
    this.state = 'waiting';
    this.loop = undefined;
    this.logger.info('Container start requested');
    this.start();
    return true;
  }

  /** The last `count` json-file records of its log, then (with onRecord) each new one until `signal` aborts. */
  readLog(count: number, onRecord?: (record: string) => void, signal?: AbortSignal): Promise<string[]> {
    return this.log.read(count, onRecord, signal);
  }

  /** The runtime config the container runs with, once prepared. */
  get ociSpec(): OciSpec | undefined {
    return this.spec;
  }
}

/**
 * Stops a container an earlier init left running that no container of the config claims:
 * SIGTERM, 10 s, SIGKILL to all its processes, then crun's state and the root mount go.
 */
export async function stopLeftover(sys: RuntimeSys, name: string, link: MonitorLink, bundleDir: string): Promise<void> {
  const kill = (signal: string): Promise<unknown> =>
    sys.exec.run(CRUN_PATH, crunKillArgs(name, signal, { all: signal === 'SIGKILL' }), { env: TOOL_ENV, timeoutMs: 10_000 }).catch(() => undefined);
  const within = (ms: number): Promise<boolean> => Promise.race([link.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
  await kill('SIGTERM');
  if (!(await within(10_000))) {
    await kill('SIGKILL');
    await within(5000);
  }
  link.close();
  await sys.exec.run(CRUN_PATH, crunDeleteArgs(name, { force: true }), { env: TOOL_ENV, okExitCodes: [0, 1] }).catch(() => undefined);
  await sys.exec.run(UMOUNT_PATH, [`${bundleDir}/rootfs`], { env: TOOL_ENV, okExitCodes: [0, 1, 32] }).catch(() => undefined);
}

/**
 * Whether something is mounted on `dir`: a mount point's device differs from its parent's (the
 * container's root is only ever an overlay, which has a device of its own). An unreadable `dir`
 * counts as mounted, so the caller's umount still runs.
 */
async function isMountPoint(dir: string): Promise<boolean> {
  try {
    const [self, parent] = await Promise.all([fsp.stat(dir), fsp.stat(`${dir}/..`)]);
    return self.dev !== parent.dev;
  } catch {
    return true;
  }
}
