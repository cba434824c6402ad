/**
 * The fleet coordinator's front door: other components import only this. A stateless
 * FleetLock server with host reports, automatic halts and a fleet view, its state in etcd v3.
 */
export { startCoordinator, checkCoordinatorOptions, COORDINATOR_DEFAULTS, type CoordinatorOptions, type CoordinatorTls, type RunningCoordinator } from './server.ts';
export { createFleetAdminClient, fleetRequest, type FleetClientOptions, type FleetClientResponse } from './client.ts';
export { EtcdClient, type EtcdClientOptions } from './etcd.ts';
export { FleetStore, type FleetSnapshot, type StoreSettings } from './store.ts';
export { ADMIN_ROUTES, summarize, formatStatus, formatHosts, formatLocks, formatGroups, hostHealth, type SnapshotView, type FleetStatusView } from './core/admin.ts';
export { DEFAULT_HALT_POLICY, evaluateHalt, type HaltPolicy } from './core/halt-policy.ts';
export { DEFAULT_PREFIX } from './core/keys.ts';
export { ROLE_PREFIX, identityOfCommonName, type Identity } from './core/roles.ts';
export type { FleetErrorCode } from './errors.ts';
