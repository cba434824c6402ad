/**
 * The coordinator's etcd key layout, all under one prefix (default `/berth/fleet/`). One owner
 * for every key name, so replicas and the CLI agree. Pure.
 */

export const DEFAULT_PREFIX = '/berth/fleet/';

/** Key builders for a prefix that ends with '/'. */
export function fleetKeys(prefix: string) {
  return {
    prefix,
    /** `{slots}` of a group (absent: the coordinator's default). */
    group: (group: string) => `${prefix}groups/${group}`,
    groups: `${prefix}groups/`,
    /** The group's semaphore: `{holders}`. */
    lock: (group: string) => `${prefix}locks/${group}`,
    locks: `${prefix}locks/`,
    /** The host's last report, attached to a lease. */
    report: (id: string) => `${prefix}reports/${id}`,
    reports: `${prefix}reports/`,
    /** Every host ever seen (no lease), so one whose report expired shows as gone. */
    known: (id: string) => `${prefix}known/${id}`,
    knowns: `${prefix}known/`,
    /** A version's halt record. */
    halt: (version: string) => `${prefix}halts/${version}`,
    halts: `${prefix}halts/`,
    /** Hosts granted a slot to move to the version. */
    took: (version: string, id: string) => `${prefix}versions/${version}/took/${id}`,
    tookAll: (version: string) => `${prefix}versions/${version}/took/`,
    /** Hosts that reported the version bad. */
    failed: (version: string, id: string) => `${prefix}versions/${version}/failed/${id}`,
    failedAll: (version: string) => `${prefix}versions/${version}/failed/`,
  };
}

export type FleetKeys = ReturnType<typeof fleetKeys>;
