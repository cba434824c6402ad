/** The fleet coordinator's error codes (a closed union, one per failure kind). */
export type FleetErrorCode =
  /** Coordinator settings or CLI flags are invalid. */
  | 'FLEET_CONFIG_INVALID'
  /** No etcd member answered within the retry window. */
  | 'FLEET_ETCD_UNAVAILABLE'
  /** etcd refused a request (not worth retrying). */
  | 'FLEET_ETCD_ERROR'
  /** A compare-and-swap kept losing to other writers. */
  | 'FLEET_CONFLICT_RETRIES'
  /** A stored value is not what the coordinator wrote. */
  | 'FLEET_STORE_CORRUPT'
  /** The client closed its connection before its lock request reached etcd; nothing was done. */
  | 'FLEET_REQUEST_ABANDONED'
  /** The admin client could not reach the coordinator or was refused. */
  | 'FLEET_REQUEST_FAILED';
