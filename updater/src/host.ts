/**
 * The updater's front door for what runs on a host (init on a host; the fleet benchmark's
 * simulated hosts): the boot gate, the update agent with its effects (ESP, slots, the throttled
 * slot writer, the journal on /var, FleetLock), the pure release choice, and the pieces the
 * host's API shows (state, gate reports, channel view).
 * Other components import the updater only through this module or ./index.ts (operator side).
 */
export { createUpdateAgent, type UpdateAgent } from './agent.ts';
export { createBootGate, type BootGate } from './boot-gate.ts';
export { applyCgroupSteps } from './cgroup.ts';
export { rolloutPosition, type ChannelObservation } from './channel.ts';
export { createUpdateEffects, rebootPolicyOf } from './effects.ts';
export { listEntryNames, renameEntries } from './esp.ts';
export { createFleetLockClient, fleetLockNodeId, resolveFleetLockIdentity, type FleetLockClient } from './fleetlock.ts';
export { createFleetReporter, type FleetReporter, type FleetReportView } from './fleet-reporter.ts';
export { awaitRebootPermission, createGateTracker, observeGates } from './gates.ts';
export { JOURNAL_PATH, readJournal, writeJournal } from './journal.ts';
export { loadPublicKey } from './signing.ts';
export type { VerifyRootStep, WriteRootStep } from './slot-io.ts';
export { runSlotWriter, SLOT_WRITER_COMMAND, spawnSlotWriter } from './slot-writer.ts';
export { BUNDLE_FILES } from './core/bundle-manifest.ts';
export type { GateFacts, GateReport } from './core/reboot-gates.ts';
export { chooseRelease } from './core/release.ts';
export { planBless, type EntryRename, type HealthSample } from './core/slots.ts';
export { describeUpdateState, initialUpdateState, reduceUpdate, UPDATE_PHASES, type UpdateEvent, type UpdatePhase, type UpdatePhaseState, type UpdateState } from './core/state.ts';
export { planThrottle } from './core/throttle.ts';
