/** FleetLock naming rules shared by config validation and the client. Pure. */

/** Group names the FleetLock protocol allows (`^[a-zA-Z0-9.-]+$`). */
export function isFleetLockGroupName(group: unknown): group is string {
  return typeof group === 'string' && /^[a-zA-Z0-9.-]+$/.test(group);
}
