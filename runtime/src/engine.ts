/**
 * The container engine: runs the `containers:` of the machine config on this host. On start it
 * clears half-unpacked layers, imports preloaded OCI layouts, and starts one supervised
 * Container per entry (each waits for its depends_on); at shutdown it stops them, dependants
 * first. Also the adapters init plugs in: Services (start, banner, stop) and BootHealth (the
 * boot is good once every `x-berth: { critical: true }` container runs and is healthy).
 * Effects: files under /var/lib/berth, /run/berth and /var/log/containers; processes.
 */
import { promises as fsp } from 'node:fs';
import type { MachineConfig } from '../../lib/config/machine-config.ts';
import { BerthError, describeError } from '../../lib/errors.ts';
import { PATHS } from '../../lib/layout.ts';
import type { Logger } from '../../lib/log.ts';
import { createExec, type Exec, type ExecResult } from '../../lib/sys/exec.ts';
import type { ContainerConfig } from '../../lib/config/sections/containers.ts';
import { Container, stopLeftover, TOOL_ENV, type ContainerStatus, type RuntimePaths, type RuntimeSys } from './container.ts';
import { CRUN_PATH, parseCrunVersion } from './core/crun-args.ts';
import { MONITOR_PATH } from './core/monitor.ts';
import { imageKey, LocalImages, type LocalImage, type PruneResult } from './images.ts';
import { createMonitorSys, type MonitorLink } from './monitor.ts';
import type { NetworkAttacher } from './network.ts';
import { createBlobStore } from './store/blobs.ts';
import { createDiskSpace, createSpaceGuard, type DiskSpace, type SpaceGuard } from './store/disk-space.ts';
import { createRegistryClient, type PullProgress, type RegistrySettings } from './store/registry-client.ts';
import { removePartialLayers } from './store/unpack.ts';
import { createUptimeClock } from './uptime.ts';

/** Where the engine keeps its state. */
export const RUNTIME_ROOT = PATHS.runtimeDir;
/** The image-builder puts OCI layouts here (on the data partition): one directory per image. */
export const PRELOAD_DIR = PATHS.preloadDir;

/** The engine's default paths. */
export const DEFAULT_RUNTIME_PATHS: RuntimePaths & { root: string; preloadDir: string } = {
  root: RUNTIME_ROOT,
  preloadDir: PRELOAD_DIR,
  layersDir: PATHS.layersDir,
  containersDir: PATHS.containersStateDir,
  bundlesDir: PATHS.bundlesDir,
  logDir: PATHS.containerLogDir,
  volumesDir: PATHS.volumesDir,
  hostResolvConf: PATHS.resolvConf,
};

/** The real RuntimeSys over node:child_process and /proc. */
export function createRuntimeSys(exec: Exec = createExec()): RuntimeSys {
  const uptimeMs = createUptimeClock();
  return {
    ...(uptimeMs === undefined ? {} : { uptimeMs }),
    exec,
    // Monitors live in a leaf of berth.slice: they count against the containers' budget, never init.scope's.
    monitors: createMonitorSys(exec, MONITOR_PATH, `${PATHS.cgroupServices}/monitors.scope`),
    nowMs: () => performance.now(),
    now: () => new Date(),
  };
}

export interface EngineOptions {
  sys: RuntimeSys;
  logger: Logger;
  paths?: typeof DEFAULT_RUNTIME_PATHS;
  /** Bridge networking (CNI); without it only host, none and container:<name> work. */
  attacher?: NetworkAttacher;
  /** statfs for the disk reserve (default: the real one). */
  disk?: DiskSpace;
}

/** How long start() waits for containers without dependencies to come up before BERTH-READY. */
const START_WAIT_MS = 60_000;

export class Engine {
  private readonly containers = new Map<string, Container>();
  private readonly logger: Logger;
  private readonly paths: typeof DEFAULT_RUNTIME_PATHS;
  private started = false;
  /** What reconcile() needs of the engine's start (images, blob store, registry settings). */
  private parts: { images: LocalImages; store: ReturnType<typeof createBlobStore>; registries: Map<string, RegistrySettings>; space: SpaceGuard } | undefined;
  /** The image store, once start() has opened it (operator image commands need it). */
  private images: LocalImages | undefined;
  /** Operator start/stop/restart of one container run one at a time per container. */
  private readonly operations = new Map<string, Promise<unknown>>();

  constructor(private readonly options: EngineOptions) {
    this.logger = options.logger;
    this.paths = options.paths ?? DEFAULT_RUNTIME_PATHS;
  }

  /** Starts the configured containers; resolves when those without dependencies ran or failed. */
  async start(config: MachineConfig): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      await this.startContainers(config);
    } catch (error) {
      // The host stays up and reachable; the boot gate judges critical containers that never ran.
      this.logger.error('Container engine not started', { error: describeError(error) });
    }
  }

  private async startContainers(config: MachineConfig): Promise<void> {
    const names = Object.keys(config.containers);
    if (names.length > 0) this.logRuntimeVersion();
    await fsp.mkdir(this.paths.layersDir, { recursive: true, mode: 0o700 });
    // A crash mid-unpack leaves .partial directories; they are never used, only removed.
    const removed = await removePartialLayers(this.paths.layersDir);
    if (removed.length > 0) this.logger.info('Partial layers removed', { count: removed.length });
    // One guard for the store's downloads and the unpacks: both fill the same /var.
    const space = createSpaceGuard(this.options.disk ?? createDiskSpace(), this.paths.root, config.storage.reserve);
    const store = createBlobStore(`${this.paths.root}/blobs`, { space });
    const settings = await registrySettings(config, this.logger);
    const images = new LocalImages({
      store,
      root: this.paths.root,
      logger: this.logger,
      registry: createRegistryClient({ settings: (registry) => settings.get(registry) }),
      space,
    });
    this.parts = { images, store, registries: settings, space };
    await images.load();
    this.images = images;
    await images.importPreloaded(this.paths.preloadDir);
    await images
      .collectGarbage(
        Object.values(config.containers).map((c) => c.image),
        this.paths.layersDir,
      )
      .catch((error: unknown) => this.logger.warn('Garbage collection failed', { error: describeError(error) }));
    // Containers that kept running while init restarted: adopted, so their network stays.
    const running = await this.findRunning(config);
    if (this.options.attacher?.start !== undefined) {
      // Bridge settings, and whatever an earlier run left attached, before any container starts.
      await this.options.attacher.start(config, { keep: [...running.keys()] }).catch((error: unknown) => this.logger.error('Container networking did not start', { error: describeError(error) }));
    }
    if (names.length === 0) return;

    for (const [name, containerConfig] of Object.entries(config.containers)) {
      const deps = {
        sys: this.options.sys,
        logger: this.logger,
        images,
        store,
        paths: this.paths,
        peer: (other: string) => this.containers.get(other),
      };
      const container = new Container(name, containerConfig, this.options.attacher === undefined ? deps : { ...deps, attacher: this.options.attacher });
      const link = running.get(name);
      if (link !== undefined) container.offerRunning(link);
      this.containers.set(name, container);
    }
    for (const container of this.containers.values()) container.start();
    this.logger.info('Containers starting', { count: names.length });

    const independent = [...this.containers.values()].filter((c) => Object.keys(c.config.depends_on).length === 0 && !c.config.network_mode.includes(':'));
    const deadline = this.options.sys.nowMs() + START_WAIT_MS;
    while (this.options.sys.nowMs() < deadline && independent.some((c) => ['waiting', 'preparing'].includes(c.status().state))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Logs crun's version, in the background while the images load. It also pages crun and its
   * libraries in from the compressed root before the first container needs them: the first
   * `crun run` of a boot otherwise reads them cold (measured under TCG: 390-700 ms to first
   * output after dropping the page cache, 230 ms warm).
   */
  private logRuntimeVersion(): void {
    void this.options.sys.exec
      .run(CRUN_PATH, ['--version'], { env: TOOL_ENV, timeoutMs: 30_000 })
      .then((result) => this.logger.info('Container runtime', { crun: parseCrunVersion(result.stdout) ?? 'unknown', path: CRUN_PATH }))
      .catch((error: unknown) => this.logger.warn('Container runtime did not answer --version', { path: CRUN_PATH, error: describeError(error) }));
  }

  /**
   * Live monitors an earlier init left (init's Node restarted; /run is kept): those of configured
   * containers are offered for adoption, the others hold containers no longer configured and are
   * stopped as an operator change would stop them.
   */
  private async findRunning(config: MachineConfig): Promise<Map<string, MonitorLink>> {
    const found = new Map<string, MonitorLink>();
    for (const name of await fsp.readdir(this.paths.bundlesDir).catch(() => [] as string[])) {
      const link = await this.options.sys.monitors.find(`${this.paths.bundlesDir}/${name}/monitor`);
      if (link === undefined) continue;
      if (Object.hasOwn(config.containers, name)) {
        found.set(name, link);
        continue;
      }
      this.logger.warn('Container no longer configured, stopping it', { container: name, pid: link.pid });
      await stopLeftover(this.options.sys, name, link, `${this.paths.bundlesDir}/${name}`);
    }
    return found;
  }

  /** Runs `argv` inside a running container (`crun exec`); throws RUNTIME_CONTAINER_NOT_FOUND for an unknown name. */
  exec(name: string, argv: readonly string[], options: { timeoutMs?: number; maxOutputBytes?: number } = {}): Promise<ExecResult> {
    const container = this.containers.get(name);
    if (container === undefined) return Promise.reject(new BerthError('RUNTIME_CONTAINER_NOT_FOUND', `No container named ${name}`));
    return container.exec(argv, options);
  }

  /** One container's status, config and run facts; RUNTIME_CONTAINER_NOT_FOUND for an unknown name. */
  inspect(name: string): ContainerInspection {
    const container = this.containerNamed(name);
    return { status: container.status(), config: container.config, ...container.details() };
  }

  /** Starts a stopped, exited or failed container; `changed` false when it was already supervised. */
  startContainer(name: string): Promise<{ changed: boolean }> {
    const container = this.containerNamed(name);
    return this.operate(name, async () => ({ changed: await container.resume() }));
  }

  /** Stops a container for good (stop signal, its stop_grace_period, SIGKILL); it stays stopped until started. */
  stopContainer(name: string): Promise<{ changed: boolean }> {
    const container = this.containerNamed(name);
    return this.operate(name, async () => {
      const state = container.status().state;
      if (state === 'stopped' || state === 'exited' || state === 'failed') return { changed: false };
      await container.stop(container.config.stop_grace_period);
      return { changed: true };
    });
  }

  /** Stops (if running) and starts a container again. */
  restartContainer(name: string): Promise<{ changed: boolean }> {
    const container = this.containerNamed(name);
    return this.operate(name, async () => {
      await container.stop(container.config.stop_grace_period);
      await container.resume();
      return { changed: true };
    });
  }

  /** The last `count` json-file records of a container's log; with `onRecord`, then every new one until `signal` aborts. */
  readLog(name: string, count: number, onRecord?: (record: string) => void, signal?: AbortSignal): Promise<string[]> {
    return this.containerNamed(name).readLog(count, onRecord, signal);
  }

  /** The images held, each with the containers whose `image` names it. */
  async listImages(): Promise<Array<LocalImage & { usedBy: string[] }>> {
    const images = await this.imageStore().list();
    return images.map((image) => ({ ...image, usedBy: this.containersUsing(image.reference) }));
  }

  /** Pulls an image from its registry, telling `onProgress` how each blob goes. */
  async pullImage(reference: string, onProgress?: (progress: PullProgress) => void): Promise<LocalImage & { usedBy: string[] }> {
    const key = checkedImageKey(reference);
    const image = await this.imageStore().pull(key, onProgress);
    return { ...image, usedBy: this.containersUsing(image.reference) };
  }

  /** Removes an image no container names (RUNTIME_IMAGE_IN_USE otherwise) and what only it needed. */
  removeImage(reference: string): Promise<PruneResult> {
    const key = checkedImageKey(reference);
    const users = this.containersUsing(key);
    if (users.length > 0) {
      return Promise.reject(new BerthError('RUNTIME_IMAGE_IN_USE', `Image ${key} is used by container ${users.join(', ')}; remove it from the machine config first`));
    }
    return this.imageStore().remove(key, this.imagesInUse(), this.paths.layersDir);
  }

  /** Forgets pulled images no container names and removes every blob and layer no kept image needs. */
  pruneImages(): Promise<PruneResult> {
    return this.imageStore().collectGarbage(this.imagesInUse(), this.paths.layersDir);
  }

  private imageStore(): LocalImages {
    if (this.images === undefined) throw new BerthError('RUNTIME_NOT_STARTED', 'The container engine has not opened its image store yet; try again once the host is up');
    return this.images;
  }

  private imagesInUse(): string[] {
    return [...this.containers.values()].map((c) => c.config.image);
  }

  private containersUsing(key: string): string[] {
    return [...this.containers.values()].filter((c) => safeImageKey(c.config.image) === key).map((c) => c.name);
  }

  private containerNamed(name: string): Container {
    const container = this.containers.get(name);
    if (container === undefined) {
      const known = [...this.containers.keys()];
      throw new BerthError('RUNTIME_CONTAINER_NOT_FOUND', `No container named ${name}${known.length > 0 ? ` (this host runs ${known.join(', ')})` : ' (the machine config declares none)'}`);
    }
    return container;
  }

  private operate<T>(name: string, task: () => Promise<T>): Promise<T> {
    const run = (this.operations.get(name) ?? Promise.resolve()).then(task);
    this.operations.set(name, run.catch(() => undefined));
    return run;
  }

  /** Every container's status, in config order. */
  statuses(): ContainerStatus[] {
    return [...this.containers.values()].map((c) => c.status());
  }

  /**
   * Moves the running containers to a new config (a config applied through the API): stops the
   * removed and recreated ones (dependants first), drops their writable layers, then creates and
   * starts the new and recreated ones (each waits for its depends_on as at boot). Containers not
   * named are left running untouched. Registry settings and the disk reserve are read again for later pulls. Resolves
   * once the started containers have left waiting/preparing (at most `waitMs`), with their statuses.
   */
  async reconcile(
    config: MachineConfig,
    changes: { create: readonly string[]; recreate: readonly string[]; remove: readonly string[] },
    options: { graceMs?: number; waitMs?: number } = {},
  ): Promise<ContainerStatus[]> {
    const parts = this.parts;
    if (parts === undefined) throw new BerthError('RUNTIME_NOT_STARTED', 'The container engine has not started; reboot to apply the containers of the new config');
    const fresh = await registrySettings(config, this.logger);
    parts.registries.clear();
    for (const [registry, settings] of fresh) parts.registries.set(registry, settings);
    parts.space.setReserve(config.storage.reserve);

    const leaving = [...changes.remove, ...changes.recreate].filter((name) => this.containers.has(name));
    for (const level of dependantsFirst(this.containers, leaving)) {
      await Promise.all(
        level.map(async (name) => {
          const container = this.containers.get(name);
          await container?.stop(options.graceMs ?? 60_000).catch((error: unknown) => {
            this.logger.warn('Container not stopped cleanly', { container: name, error: describeError(error) });
          });
          this.containers.delete(name);
          // A recreated container starts from a fresh writable layer, as Compose's recreate does.
          await fsp.rm(`${this.paths.containersDir}/${name}`, { recursive: true, force: true });
          this.logger.info('Container removed', { container: name, reason: changes.remove.includes(name) ? 'removed from config' : 'definition changed' });
        }),
      );
    }

    const starting: Container[] = [];
    for (const name of [...changes.create, ...changes.recreate]) {
      const containerConfig = config.containers[name];
      if (containerConfig === undefined) continue;
      const deps = { sys: this.options.sys, logger: this.logger, images: parts.images, store: parts.store, paths: this.paths, peer: (other: string) => this.containers.get(other) };
      const container = new Container(name, containerConfig, this.options.attacher === undefined ? deps : { ...deps, attacher: this.options.attacher });
      this.containers.set(name, container);
      starting.push(container);
    }
    // Status lists follow the new config's order.
    const ordered = [...this.containers.entries()].sort(([a], [b]) => configIndex(config, a) - configIndex(config, b));
    this.containers.clear();
    for (const [name, container] of ordered) this.containers.set(name, container);
    for (const container of starting) container.start();
    if (starting.length > 0) this.logger.info('Containers starting', { count: starting.length, reason: 'config applied' });

    const deadline = this.options.sys.nowMs() + (options.waitMs ?? START_WAIT_MS);
    while (this.options.sys.nowMs() < deadline && starting.some((c) => ['waiting', 'preparing'].includes(c.status().state))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return starting.map((c) => c.status());
  }

  /** Stops every container, dependants before what they depend on. Never throws. */
  async stopAll(graceMs: number): Promise<void> {
    const depth = new Map<string, number>();
    const depthOf = (name: string, seen: Set<string>): number => {
      const known = depth.get(name);
      if (known !== undefined) return known;
      const c = this.containers.get(name);
      if (c === undefined || seen.has(name)) return 0;
      seen.add(name);
      const needs = [...Object.keys(c.config.depends_on)];
      const shared = /^(?:container|service):(.+)$/.exec(c.config.network_mode)?.[1];
      if (shared !== undefined) needs.push(shared);
      const d = needs.reduce((max, dep) => Math.max(max, depthOf(dep, seen) + 1), 0);
      depth.set(name, d);
      return d;
    };
    for (const name of this.containers.keys()) depthOf(name, new Set());
    const levels = [...new Set(depth.values())].sort((a, b) => b - a);
    for (const level of levels) {
      const group = [...this.containers.values()].filter((c) => depth.get(c.name) === level);
      await Promise.all(
        group.map((c) =>
          c.stop(graceMs).catch((error: unknown) => {
            this.logger.warn('Container not stopped cleanly', { container: c.name, error: describeError(error) });
          }),
        ),
      );
    }
    if (this.containers.size > 0) this.logger.info('Containers stopped', { count: this.containers.size });
  }
}

/** What GET /v1/containers/{name} shows of one container. */
export interface ContainerInspection {
  status: ContainerStatus;
  config: ContainerConfig;
  startedAt?: Date;
  ip?: string;
  gateway?: string;
}

function safeImageKey(reference: string): string | undefined {
  try {
    return imageKey(reference);
  } catch {
    return undefined;
  }
}

/** The canonical key of an operator-given reference, or RUNTIME_REFERENCE_INVALID saying what is wrong. */
function checkedImageKey(reference: string): string {
  try {
    return imageKey(reference);
  } catch (error) {
    throw new BerthError('RUNTIME_REFERENCE_INVALID', `'${reference}' is not an image reference like registry.example:5000/app:1.0: ${describeError(error)}`, { cause: error });
  }
}

function configIndex(config: MachineConfig, name: string): number {
  const index = Object.keys(config.containers).indexOf(name);
  return index === -1 ? Number.MAX_SAFE_INTEGER : index;
}

/**
 * `names` grouped for stopping: each group only holds containers nothing later in the list
 * depends on (depends_on or a shared network, among the running containers).
 */
export function dependantsFirst(containers: ReadonlyMap<string, { config: { depends_on: Readonly<Record<string, unknown>>; network_mode: string } }>, names: readonly string[]): string[][] {
  const needs = (name: string): string[] => {
    const c = containers.get(name);
    if (c === undefined) return [];
    const shared = /^(?:container|service):(.+)$/.exec(c.config.network_mode)?.[1];
    return [...Object.keys(c.config.depends_on), ...(shared === undefined ? [] : [shared])];
  };
  const left = new Set(names);
  const levels: string[][] = [];
  while (left.size > 0) {
    // A container goes once no container still left depends on it.
    const level = [...left].filter((name) => ![...left].some((other) => other !== name && needs(other).includes(name)));
    // A cycle (refused by the config schema) must not loop forever: stop the rest together.
    const group = level.length > 0 ? level : [...left];
    levels.push(group);
    for (const name of group) left.delete(name);
  }
  return levels;
}

/** Per-registry settings with the password read from its file (never logged). */
async function registrySettings(config: MachineConfig, logger: Logger): Promise<Map<string, RegistrySettings>> {
  const out = new Map<string, RegistrySettings>();
  for (const [registry, entry] of Object.entries(config.registries)) {
    const settings: RegistrySettings = { insecure: entry.insecure };
    if (entry.username !== undefined && entry.password_file !== undefined) {
      try {
        const password = (await fsp.readFile(entry.password_file, 'utf8')).replace(/\r?\n$/, '');
        settings.credentials = { username: entry.username, password };
      } catch (error) {
        logger.error('Registry password not readable', { registry, file: entry.password_file, error: describeError(error) });
      }
    }
    out.set(registry, settings);
  }
  return out;
}

/** A container as init's console banner shows it. */
export interface BannerContainer {
  name: string;
  state: string;
  health?: string;
}

/**
 * init's Services over the engine: start, the banner's container list, and stop (containers
 * through crun first, then `fallback` sweeps whatever is left in the services cgroup).
 */
export function createRuntimeServices(
  engine: Engine,
  fallback: { stopAll(graceMs: number): Promise<void> },
): {
  start(config: MachineConfig): Promise<void>;
  containers(): Promise<BannerContainer[]>;
  stopAll(graceMs: number): Promise<void>;
} {
  return {
    start: (config) => engine.start(config),
    containers: () =>
      Promise.resolve(
        engine.statuses().map((s) => {
          const out: BannerContainer = { name: s.name, state: s.state };
          if (s.health !== undefined) out.health = s.health;
          return out;
        }),
      ),
    async stopAll(graceMs) {
      await engine.stopAll(graceMs);
      await fallback.stopAll(Math.min(graceMs, 2000));
    },
  };
}
