/**
 * The updater on a running host: builds the boot gate (the one health gate and the one
 * blessing of this boot, updater/src/boot-gate.ts) and, after BERTH-READY, the update
 * agent with its real effects: the ESP through `withEsp`, slots found by PARTLABEL, the
 * slot writer as a child process in its own throttled cgroup (io.max on the whole
 * disk), health samples from the container engine, reboots through init's orderly
 * shutdown. Effects: sysfs and cgroupfs reads and writes, the journal on /var, child
 * processes; the rest happens in the updater's modules.
 */
import { readFile } from 'node:fs/promises';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { systemClock } from '../../lib/sys/clock.ts';
import { PATHS, rootPartitionLabel, type Slot } from '../../lib/layout.ts';
import { applyCgroupSteps, type BootGate, type ChannelObservation, createBootGate, createFleetLockClient, createFleetReporter, createGateTracker, type FleetReporter, type FleetReportView, createUpdateAgent, createUpdateEffects, type GateFacts, type GateReport, type HealthSample, JOURNAL_PATH, listEntryNames, loadPublicKey, observeGates, planBless, planThrottle, readJournal, rebootPolicyOf, renameEntries, resolveFleetLockIdentity, rolloutPosition, spawnSlotWriter, type UpdateAgent, type VerifyRootStep, writeJournal, type WriteRootStep } from '../../updater/src/host.ts';
import { UPDATE_DEFAULTS, type UpdateSettings } from '../../lib/config/sections/update.ts';
import type { HaltInfo } from '../../lib/fleet/protocol.ts';
import type { BootHealth, BootVerdict } from './boot-health.ts';
import { withEsp } from './bless.ts';
import { stableMachineId } from './machine-id.ts';
import { findPartition, readSectors } from './block-devices.ts';
import type { BootIdentity } from './core/boot-identity.ts';
import type { MachineConfig } from './core/machine-config.ts';
import { KERNEL_PATHS } from './core/tools.ts';
import type { Sys } from './sys/types.ts';

/** The slot writer's cgroup below the cgroup root (inside berth.slice: stopped with the services at shutdown). */
export const WRITER_CGROUP = 'berth.slice/update-writer';
const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

export interface UpdaterHostOptions {
  sys: Pick<Sys, 'fs' | 'exec'>;
  logger: Logger;
  /** Init up and the critical containers' health (from the container engine; empty without one). */
  health(): Promise<Omit<HealthSample, 'now' | 'initUp'>>;
  /** Whether init reached readiness and is running. */
  initUp(): boolean;
}

export interface UpdaterHost {
  /** For init: the boot's verdict comes from the boot gate. */
  bootHealth: BootHealth;
  /** For init: the one blessing of this boot. */
  bless(slot: Slot): Promise<void>;
  /** Called after BERTH-READY: creates the gate and starts the agent when `update:` is configured. */
  start(ready: { identity: BootIdentity; config: MachineConfig; reboot: () => void }): void;
  agent(): UpdateAgent | undefined;
  /** Each reboot gate now (empty before the agent starts or without `update:`). */
  gates(): GateReport[];
  /** Opens the manual gate; false when the strategy has none or updates are off. */
  approve(): boolean;
  /** What the last verified channel metadata said about this host (wave, eligibility, halts). */
  rollout(): ChannelObservation | undefined;
  /** The fleet's view with `update.fleetlock`: the coordinator's halt of the staged version, and the host reports; undefined without fleetlock. */
  fleet(): { halt?: HaltInfo; reports?: FleetReportView } | undefined;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export function createUpdaterHost(options: UpdaterHostOptions): UpdaterHost {
  const { sys, logger } = options;
  const gate = deferred<BootGate>();
  let agent: UpdateAgent | undefined;
  let bootedSlot: Slot | undefined;
  const tracker = createGateTracker();
  let gateInputs: { settings: UpdateSettings; soak: () => GateFacts['soak'] } | undefined;
  let observation: ChannelObservation | undefined;
  let reporter: FleetReporter | undefined;

  const espJob = <T>(use: (espRoot: string) => Promise<T>): Promise<T> => withEsp(sys, logger, use, 'UPDATER_ESP_UNAVAILABLE');

  const blessNow = (slot: Slot): Promise<void> =>
    espJob(async (espRoot) => {
      const renames = planBless(await listEntryNames(espRoot), slot);
      await renameEntries(espRoot, renames);
      for (const r of renames) logger.info('Boot entry blessed', { slot, from: r.from, to: r.to });
      if (renames.length === 0) logger.info('Boot entry not renamed', { slot, reason: 'already-blessed' });
    });

  const partition = async (slot: Slot): Promise<{ path: string; size: number; disk: string }> => {
    const found = await findPartition(sys.fs, rootPartitionLabel(slot), 'UPDATER_SLOT_NOT_FOUND');
    const sectors = await readSectors(sys.fs, `${KERNEL_PATHS.sysClassBlock}/${found.name}/size`);
    return { path: found.device, size: sectors * 512, disk: found.diskName };
  };

  /** Prepares the writer's throttled group (io.max on the slot's whole disk); returns its directory. */
  const writerGroup = async (settings: UpdateSettings, slot: Slot): Promise<{ group: string; ioMax: string }> => {
    const { disk } = await partition(slot);
    // io.max takes the whole disk, not the partition.
    const [major, minor] = (await sys.fs.readText(`${KERNEL_PATHS.sysClassBlock}/${disk}/dev`)).trim().split(':').map(Number);
    const steps = planThrottle({ limits: settings.throttle, device: { major: major ?? -1, minor: minor ?? -1 }, cgroupRoot: PATHS.cgroupRoot, group: WRITER_CGROUP });
    await applyCgroupSteps(steps);
    const ioMax = steps.find((s): s is Extract<typeof s, { kind: 'write' }> => s.kind === 'write' && s.path.endsWith('io.max'))?.value ?? '';
    return { group: `${PATHS.cgroupRoot}/${WRITER_CGROUP}`, ioMax };
  };

  const writeRoot = async (settings: UpdateSettings, step: WriteRootStep, bundleDir: string, devicePath: string): Promise<void> => {
    const { group, ioMax } = await writerGroup(settings, step.slot);
    logger.info('Slot write starting', { slot: step.slot, device: devicePath, cgroup: group, io_max: ioMax });
    const result = await spawnSlotWriter({ node: PATHS.nodeBinary, script: PATHS.bundle, request: { step, bundleDir, devicePath, cgroup: group } });
    const rate = result.ms > 0 ? Math.round((result.bytes / result.ms) * 1000) : 0;
    // steady_*: after io.max's first burst, over the time a write was in flight (updater/src/core/write-rate.ts).
    logger.info('Slot written', {
      slot: step.slot,
      bytes: result.bytes,
      ms: result.ms,
      bytes_per_s: rate,
      steady_bytes_per_s: result.steady?.bytesPerSecond ?? 0,
      steady_ms: result.steady?.windowMs ?? 0,
      starved_ms: result.steady?.starvedMs ?? 0,
      direct: result.direct,
    });
    if (!result.direct) logger.warn('Slot written through the page cache', { slot: step.slot, device: devicePath, reason: 'the device refused O_DIRECT; io.max may not pace the write' });
  };

  /** The read-back runs in the writer's group too: its reads and hashing stay within cpu.max and memory.max. */
  const verifyRoot = async (settings: UpdateSettings, step: VerifyRootStep, devicePath: string): Promise<void> => {
    const { group } = await writerGroup(settings, step.slot);
    const result = await spawnSlotWriter({ node: PATHS.nodeBinary, script: PATHS.bundle, request: { step, bundleDir: '', devicePath, cgroup: group } });
    logger.info('Slot verified', { slot: step.slot, bytes: result.bytes, ms: result.ms, direct: result.direct, root_hash: step.rootHash });
  };

  return {
    bootHealth: {
      async verdict(): Promise<BootVerdict> {
        const result = await (await gate.promise).result();
        if (result.passed) return { status: 'good' };
        // While the agent confirms an update it owns the failure: it marks the entry bad and reboots.
        const phase = agent?.state().current.phase;
        if (phase === 'confirming' || phase === 'rebooting') return { status: 'indeterminate', reason: `update agent rolls back: ${result.reason}` };
        return { status: 'bad', reason: result.reason };
      },
    },
    bless: async (slot) => (await gate.promise).bless().then(() => {
      if (slot !== bootedSlot) logger.warn('Bless asked for another slot than the booted one', { slot, booted: bootedSlot });
    }),
    agent: () => agent,
    gates() {
      if (!gateInputs || !agent) return [];
      const current = agent.state().current;
      return observeGates(
        { policy: rebootPolicyOf(gateInputs.settings), soak: gateInputs.soak, ...('target' in current ? { targetVersion: current.target.version } : {}), clock: systemClock },
        tracker,
      );
    },
    rollout: () => observation,
    fleet() {
      if (!gateInputs?.settings.fleetlock) return undefined;
      const lock = tracker.lock;
      return { ...(lock.state === 'halted' ? { halt: lock.halt } : {}), ...(reporter ? { reports: reporter.view() } : {}) };
    },
    approve() {
      if (!gateInputs?.settings.gates.includes('manual')) return false;
      tracker.approve();
      return true;
    },
    start(ready) {
      bootedSlot = ready.identity.slot;
      const settings = ready.config.update;
      const soakMs = settings?.soakMs ?? UPDATE_DEFAULTS.soakMs;
      const sample = async (): Promise<Omit<HealthSample, 'now'>> => ({ initUp: options.initUp(), ...(await options.health()) });
      const bootGate = createBootGate({ soakMs, sample, bless: () => blessNow(ready.identity.slot), clock: systemClock });
      gate.resolve(bootGate);
      logger.info('Boot gate started', { soak_ms: soakMs });
      if (!settings) {
        logger.info('Updates off: no update section in the machine config');
        return;
      }
      // The soak gate's view of the boot gate: running until it settles, about soakMs from now.
      let soak: GateFacts['soak'] = { state: 'running', endsAt: new Date(systemClock.now().getTime() + soakMs) };
      void bootGate.result().then(
        (r) => (soak = r.passed ? { state: 'passed' } : { state: 'failed', reason: r.reason }),
        (error: unknown) => (soak = { state: 'failed', reason: describeError(error) }),
      );
      gateInputs = { settings, soak: () => soak };
      void (async () => {
        let trustedKey;
        try {
          trustedKey = loadPublicKey(await readFile(PATHS.updateSigningKey), PATHS.updateSigningKey);
        } catch (error) {
          logger.error('Updates off: no usable update signing key in the image', { path: PATHS.updateSigningKey, error: describeError(error) });
          return;
        }
        const bootId = (await sys.fs.readText(BOOT_ID_PATH)).trim();
        const booted = { slot: ready.identity.slot, version: ready.identity.version, bootId };
        let machineId = '';
        try {
          const stable = await stableMachineId(sys.fs);
          machineId = stable.id;
          if (stable.source === 'generated') logger.info('Machine id generated', { path: PATHS.machineId });
        } catch (error) {
          logger.warn('Cannot keep a machine id: the FleetLock id and the wave seed change at every boot', { path: PATHS.machineId, error: describeError(error) });
        }
        let fleetlock: ReturnType<typeof createFleetLockClient> | undefined;
        if (settings.fleetlock) {
          try {
            const identity = await resolveFleetLockIdentity(settings.fleetlock, machineId || bootId, (path) => sys.fs.readText(path));
            fleetlock = createFleetLockClient({ url: settings.fleetlock.url, group: settings.fleetlock.group, nodeId: identity.nodeId, ...(identity.tls ? { tls: identity.tls } : {}) });
            logger.info('FleetLock client ready', { url: settings.fleetlock.url, group: settings.fleetlock.group, id: identity.nodeId, client_cert: identity.tls?.certPem !== undefined });
          } catch (error) {
            // The fleetlock gate then never holds and says so; the rest of the agent runs.
            logger.error('FleetLock client unusable: the fleetlock gate cannot open', { error: describeError(error) });
          }
        }
        // Waves place the host by a stable seed; without one (no machine id) it counts as the last host, never a canary.
        const seed = settings.seed ?? (machineId || undefined);
        if (seed === undefined) logger.warn('No machine id and no update.seed: this host takes waved releases with the last wave');
        const effects = createUpdateEffects({
          settings,
          booted,
          architecture: 'x86_64',
          trustedKeys: [trustedKey],
          state: () => created.state(),
          stateDir: PATHS.stateDir,
          withEsp: espJob,
          slotDevice: async (slot) => {
            const { path, size } = await partition(slot);
            return { path, size };
          },
          writeRoot: (step, bundleDir, devicePath) => writeRoot(settings, step, bundleDir, devicePath),
          verifyRoot: (step, devicePath) => verifyRoot(settings, step, devicePath),
          reboot: () => {
            logger.info('Rebooting for the update');
            ready.reboot();
            return new Promise<void>(() => undefined);
          },
          healthSample: () => bootGate.result().then((r) => (r.passed ? { initUp: true, unhealthyCritical: [] } : { initUp: true, unhealthyCritical: [], failedCritical: [r.reason] })),
          ...(fleetlock ? { fleetlock } : {}),
          ...(fleetlock ? { beforeLock: () => reporter?.flush() ?? Promise.resolve() } : {}),
          soakState: () => soak,
          rolloutPosition: seed === undefined ? 1 - Number.EPSILON : rolloutPosition(seed),
          observeChannel: (seen) => {
            if (seen.isRunningHalted && !observation?.isRunningHalted) logger.warn('The running release is halted on the channel', { version: booted.version, channel: settings.channel });
            observation = seen;
          },
          gateTracker: tracker,
          clock: systemClock,
          logger,
        });
        // Reports go to a berth coordinator; a Zincati-only server answers 404 and they stop.
        reporter = fleetlock ? createFleetReporter({ client: fleetlock, state: () => created.state(), booted, clock: systemClock, logger }) : undefined;
        let reportsStarted = false;
        let firstCheckDone = false;
        // The agent's health gate and blessing are the boot gate's: one judgement, one rename per boot.
        const gatedEffects = {
          ...effects,
          runHealthGate: async () => {
            const result = await bootGate.result();
            return result.passed ? ({ type: 'health-passed' } as const) : ({ type: 'health-failed', reason: result.reason } as const);
          },
          blessSlot: () => bootGate.bless(),
          // The first check of a boot comes once this boot has been judged (soak passed or failed),
          // not a whole interval later: a host that was off for a week updates soon after it starts.
          waitForCheck: async (after: 'interval' | 'retry', attempt: number, signal: AbortSignal) => {
            if (after === 'interval' && !firstCheckDone) {
              firstCheckDone = true;
              await bootGate.result();
              return { type: 'check-requested' } as const;
            }
            return effects.waitForCheck(after, attempt, signal);
          },
        };
        const created = createUpdateAgent({
          effects: gatedEffects,
          journal: {
            read: async () => (await readJournal(JOURNAL_PATH))?.state,
            write: (state) => writeJournal(JOURNAL_PATH, state, new Date()),
          },
          logger,
          booted,
          onState: () => {
            if (reportsStarted) return reporter?.notify();
            // The first report waits for the journal's state: an 'idle' sent before it could
            // end a hold the coordinator must keep while this boot is still being confirmed.
            reportsStarted = true;
            void reporter?.run(new AbortController().signal).catch((error: unknown) => logger.error('Host reports stopped', { error: describeError(error) }));
          },
        });
        agent = created;
        logger.info('Update agent starting', { slot: booted.slot, version: booted.version, server: settings.server, channel: settings.channel, strategy: settings.strategy });
        await created.run();
      })().catch((error: unknown) => logger.error('Update agent stopped', { error: describeError(error) }));
    },
  };
}
