/**
 * Init's main (berth-init.cjs), compiled and called by /usr/lib/berth/berth.mjs (boot.ts) with
 * the code cache the previous boot kept, or called as the main of init's startup snapshot
 * (startup-snapshot.ts) when berth-pid1 (native/berth-pid1.c) starts Node from one; otherwise
 * berth-pid1 runs `node --max-old-space-size=192 --enable-source-maps /usr/lib/berth/berth.mjs`. The only
 * place that reads argv, env and process, builds the real effects, installs signal and
 * error handlers, and keeps the process alive. If Node dies anyway, berth-pid1 starts it
 * again with BERTH_INIT_RESTARTS/BERTH_INIT_LAST_EXIT set, and init runs its restart path.
 */
import { describeError } from '../../lib/errors.ts';
import { CMDLINE_KEYS, PATHS } from '../../lib/layout.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { createCniAttacher, createRuntimeServices, createRuntimeSys, Engine } from '../../runtime/src/index.ts';
import { runSlotWriter, SLOT_WRITER_COMMAND } from '../../updater/src/host.ts';
import { SHUTDOWN_SIGNALS } from './core/shutdown-plan.ts';
import { parseInitRestart, RESTART_ENV } from './core/restart.ts';
import { containerControlOf, imageControlOf } from './api/container-engine.ts';
import { startApi } from './api/index.ts';
import { Init } from './init.ts';
import { createInitLog } from './logging.ts';
import { saveCodeCache, type LoadedBundle } from './code-cache.ts';
import { armDebugTriggers } from './debug-triggers.ts';
import { createCgroupServices } from './services.ts';
import { readNodeStartup, type NodeStartup } from './node-start.ts';
import { mapStackTraces } from './stack-traces.ts';
import { buildStartupSnapshot, dropKeptSnapshots, onSnapshotStart, settleSnapshotAtStart, startupSnapshotFileName, type NodeStartedFrom } from './startup-snapshot.ts';
import { parseKernelCommandLine } from '../../lib/boot-entry.ts';
import { KERNEL_PATHS } from './core/tools.ts';
import { createNodeSys } from './sys/node.ts';
import { createUpdaterHost } from './update.ts';
import { startWatchdog } from './watchdog.ts';

/** Signals whose default action would end Node; as PID 1's child it ignores them. */
const IGNORED_SIGNALS = ['SIGHUP', 'SIGQUIT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'] as const;

/** Exit code of an init that ends itself after an unexpected error (EX_SOFTWARE): berth-pid1 restarts it. */
const EXIT_FOR_RESTART = 70;

/** Shutdown must finish in this time; after it, power goes without the remaining steps. */
const SHUTDOWN_DEADLINE_MS = 120_000;

/** After BERTH-READY, the boot's modules are compiled when this has passed: then the compile cache is saved. */
const COMPILE_CACHE_SAVE_DELAY_MS = 10_000;

/** What the loader (boot.ts) hands init's bundle: Node's start-up figures and the compiled bundle's code cache (none from a snapshot). */
export interface LoaderContext {
  nodeStartup: NodeStartup;
  codeCache?: Pick<LoadedBundle<unknown>, 'cache' | 'createCache' | 'cacheName'>;
}

/** berth-init.cjs's exports, as boot.ts calls them. */
export interface InitBundle {
  main(argv: readonly string[], loader: LoaderContext): void;
}

/** Keeps on /var the code cache of everything V8 compiled this boot (code-cache.ts); the initramfs copies it to /run for the next boot. */
async function keepCodeCache(logger: Logger, codeCache: LoaderContext['codeCache']): Promise<void> {
  if (codeCache === undefined || codeCache.cache === 'off') return;
  try {
    const saved = await saveCodeCache(codeCache.createCache(), codeCache.cacheName, PATHS.compileCacheOnVar);
    logger.info('Compile cache saved', { bytes: saved.bytes, removed: saved.removed, at_boot: codeCache.cache });
  } catch (error) {
    // Only the next boot's start-up gets slower.
    logger.warn('Compile cache not saved', { error: describeError(error) });
  }
}

/**
 * Keeps on /var a startup snapshot of init for this root (startup-snapshot.ts), unless Node
 * started from one; after a start from one failed, drops it instead, and the next boot builds
 * a new one.
 */
async function keepStartupSnapshot(logger: Logger, readCmdline: () => Promise<string>, startedFrom: NodeStartedFrom): Promise<void> {
  if (startedFrom === 'snapshot') return;
  try {
    if (startedFrom === 'snapshot-failed') {
      const removed = await dropKeptSnapshots(PATHS.startupSnapshotOnVar);
      logger.warn('Startup snapshot dropped', { reason: 'start-failed', removed });
      return;
    }
    const rootHash = parseKernelCommandLine(await readCmdline()).get(CMDLINE_KEYS.rootHash) ?? '';
    const startedAt = performance.now();
    const built = await buildStartupSnapshot({ nodeBinary: process.execPath, bundle: PATHS.initBundle, keptDir: PATHS.startupSnapshotOnVar, fileName: startupSnapshotFileName(rootHash) });
    logger.info('Startup snapshot saved', { bytes: built.bytes, removed: built.removed, duration_ms: Math.round(performance.now() - startedAt) });
  } catch (error) {
    // Only the next boot's start-up gets slower: it runs the bundle.
    logger.warn('Startup snapshot not saved', { error: describeError(error) });
  }
}

function runInit(loader: LoaderContext): void {
  const startedFrom = settleSnapshotAtStart(loader.codeCache === undefined, PATHS.startupSnapshotRun);
  // Each power button stream holds a libuv pool thread in a blocking read(2); keep room for fs work.
  // Read when the pool first starts, which has not happened yet.
  process.env.UV_THREADPOOL_SIZE ??= '8';
  const restart = parseInitRestart(process.env);
  // Children (probes, daemons) must not take this init's restart for their own.
  delete process.env[RESTART_ENV.count];
  delete process.env[RESTART_ENV.lastExit];
  const sys = createNodeSys();
  const log = createInitLog(sys.console, sys.clock, process.env.BERTH_LOG_LEVEL === 'debug' ? 'debug' : 'info');
  // The container engine runs the config's containers (services stage) and judges the boot by its critical ones.
  const runtimeLogger = createLogger({ component: 'runtime', sinks: [(line) => log.consoleLine(line)], minLevel: process.env.BERTH_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const runtimeSys = createRuntimeSys();
  const engine = new Engine({ sys: runtimeSys, logger: runtimeLogger, attacher: createCniAttacher({ exec: runtimeSys.exec, logger: runtimeLogger }) });
  // The boot's one health gate (critical containers healthy for update.soak) and one blessing, and the update agent.
  const updaterLogger = createLogger({ component: 'updater', sinks: [(line) => log.consoleLine(line)], minLevel: process.env.BERTH_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const updater = createUpdaterHost({
    sys,
    logger: updaterLogger,
    health: async () => {
      const critical = engine.statuses().filter((s) => s.critical);
      // Host services count as critical too: an etcd member that does not answer /health holds the gate.
      const services = await init.unhealthyServices();
      return {
        unhealthyCritical: [...critical.filter((s) => !(s.state === 'running' && (s.health === undefined || s.health === 'healthy'))).map((s) => s.name), ...services],
        failedCritical: critical.filter((s) => s.state === 'failed' || s.state === 'exited').map((s) => s.name),
      };
    },
    initUp: () => init.state === 'running',
  });
  const init = new Init({
    sys,
    pid: process.pid,
    log,
    ...(restart ? { restart } : {}),
    nodeStartup: () => ({ ...loader.nodeStartup, nowMs: Math.round(performance.now()), from: startedFrom }),
    onDebugShell: () => armDebugTriggers(log.logger),
    // berth-pid1 starts init again; its restart line says exit-code:70.
    exitForRestart: () => process.exit(EXIT_FOR_RESTART),
    memory: () => {
      const usage = process.memoryUsage();
      return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed };
    },
    services: createRuntimeServices(engine, createCgroupServices(sys, log.logger)),
    health: updater.bootHealth,
    blessBoot: (slot) => updater.bless(slot),
    onReady: (ready) => {
      updater.start(ready);
      setTimeout(() => {
        void keepCodeCache(log.logger, loader.codeCache).then(() => keepStartupSnapshot(log.logger, () => sys.fs.readText(KERNEL_PATHS.cmdline), startedFrom));
      }, COMPILE_CACHE_SAVE_DELAY_MS).unref();
    },
    reconcileContainers: (config, changes) => engine.reconcile(config, changes),
    startApi: (options) => startApi({ ...options, containers: containerControlOf(engine), images: imageControlOf(engine), updater }),
    onShutdownStart(action, done) {
      // A shutdown that hangs (a stuck umount, a dead disk) still ends in the power action.
      const deadline = setTimeout(() => {
        log.logger.error('Shutdown deadline passed, forcing power action', { action, deadline_ms: SHUTDOWN_DEADLINE_MS });
        void (action === 'reboot' ? sys.power.reboot() : sys.power.powerOff());
      }, SHUTDOWN_DEADLINE_MS);
      void done.finally(() => clearTimeout(deadline));
    },
  });

  // Keep the event loop alive whatever else ends (signal handlers alone do not).
  setInterval(() => undefined, 1 << 30);

  process.on('uncaughtException', (error) => init.handleUnexpected(error, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => init.handleUnexpected(reason, 'unhandledRejection'));
  for (const signal of IGNORED_SIGNALS) process.on(signal, () => log.logger.info('Signal ignored', { signal }));
  for (const signal of SHUTDOWN_SIGNALS) {
    process.on(signal, () => void init.requestShutdown(signal));
  }
  void startWatchdog(sys, log.logger);
  void init.boot();
}

function dispatch(argv: readonly string[], loader: LoaderContext): void {
  const [command] = argv;
  // Init mode: no arguments and started by berth-pid1 (PID 1). Anything else must not touch the machine.
  if (command === undefined && process.ppid === 1) {
    runInit(loader);
    return;
  }
  if (command === SLOT_WRITER_COMMAND) {
    // The update's slot writer, started by init in its own throttled cgroup (updater/src/slot-writer.ts).
    void runSlotWriter(argv[1] ?? '', process.pid).then((outcome) => {
      process.stdout.write(`${JSON.stringify(outcome)}\n`);
      process.exitCode = outcome.ok ? 0 : 1;
    });
    return;
  }
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write('Usage: berth.mjs (run by berth-pid1 as PID 2) | berth.mjs probe (the host facts of GET /v1/status, JSON)\n');
    process.exitCode = command === undefined ? 2 : 0;
    return;
  }
  process.stderr.write(`Unknown command "${command}": run with --help for the commands\n`);
  process.exitCode = 2;
}

/** The bundle's front door (berth-init.cjs), called by boot.ts. `probe` never reaches it: boot.ts imports the probe itself. */
export function main(argv: readonly string[], loader: LoaderContext): void {
  try {
    dispatch(argv, loader);
  } catch (error) {
    // Still PID 1's child: report and stay alive; the handlers above decide what happens next.
    process.stderr.write(`berth init: ${describeError(error)}\n`);
  }
}

// Evaluated for a startup snapshot (`node --build-snapshot berth-init.cjs`, startup-snapshot.ts):
// a boot from it calls this. argv has no script: Node's own path, then the arguments.
onSnapshotStart(() => {
  const nodeStartupNow = readNodeStartup();
  mapStackTraces(PATHS.initBundle);
  main(process.argv.slice(1), { nodeStartup: nodeStartupNow });
});
