/**
 * The one error base class of berth and the closed list of its codes. Every failure a user can
 * see carries a stable `code` (tests assert on it) and a message that names the object and what
 * to do. Pure.
 */

/** lib: config loading and validation, the exec wrapper's four failure kinds, boot entries. */
export type LibErrorCode =
  | 'BOOT_ENTRY_INVALID'
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'EXEC_EXIT_NONZERO'
  | 'EXEC_NOT_STARTED'
  | 'EXEC_OPTION_INVALID'
  | 'EXEC_SIGNALED'
  | 'EXEC_TIMEOUT';

/** image-builder: profiles and build steps. */
export type BuildErrorCode =
  | 'BUILD_STEP_FAILED'
  | 'BUILD_TOOL_MISSING'
  | 'PROFILE_INVALID';

/** cli: argument parsing, `berth ctl` talking to a host, key files, boot-chart input. */
export type CliErrorCode =
  | 'ANALYZE_INPUT_UNREADABLE'
  | 'CLI_USAGE'
  /** A host answered an HTTP error without berth's error body (a proxy in between?). */
  | `HTTP_${number}`
  | 'CTL_ANSWER_TIMEOUT'
  | 'CTL_BAD_ANSWER'
  | 'CTL_CANNOT_CONNECT'
  | 'CTL_FILE'
  | 'CTL_STREAM_ENDED'
  | 'CTL_TIMEOUT'
  | 'KEYS_EXISTS'
  | 'KEYS_NO_CA';

/** init: boot stages (cmdline, mounts, data partition, config sources, cgroups, blessing). */
export type InitErrorCode =
  | 'INIT_BLESS_FAILED'
  | 'INIT_CGROUP_FAILED'
  | 'INIT_CMDLINE_INVALID'
  | 'INIT_CONFIG_DRIVE_NOT_BERTH'
  | 'INIT_CONFIG_URL_HTTP'
  | 'INIT_CONFIG_URL_TIMEOUT'
  | 'INIT_CONFIG_URL_TOO_BIG'
  | 'INIT_DATA_PARTITION'
  | 'INIT_ESP_FAILED'
  | 'INIT_MOUNT_FAILED'
  | 'INIT_SNAPSHOT_FAILED';

/** init/src/api: what the management API answers (also in the JSON error body the CLI shows). */
export type ApiErrorCode =
  | 'API_BAD_ENCODING'
  | 'API_BAD_JSON'
  | 'API_BODY_REQUIRED'
  | 'API_BODY_TOO_LARGE'
  | 'API_FOLLOWER_TOO_SLOW'
  | 'API_INTERNAL'
  | 'API_INVALID_BODY'
  | 'API_INVALID_QUERY'
  | 'API_METHOD_NOT_ALLOWED'
  | 'API_NOT_FOUND'
  | 'API_SHUTTING_DOWN'
  | 'API_TLS_MATERIAL'
  | 'API_TOO_MANY_FOLLOWERS'
  | 'API_UNAUTHENTICATED'
  | 'API_UNEXPECTED_BODY'
  | 'API_UNSUPPORTED_MEDIA_TYPE'
  | 'CONFIG_NO_TRY_PENDING'
  | 'CONFIG_TRY_PENDING'
  | 'UPDATE_BUSY'
  | 'UPDATE_FAILED'
  | 'UPDATE_NOT_CONFIGURED'
  | 'UPDATE_NO_MANUAL_GATE';

/** runtime: images, registries, the store, containers, CNI (the layer refusals are RuntimeLayerErrorCode). */
export type RuntimeErrorCode =
  | 'CNI_CONFIG_INVALID'
  | 'CNI_NOT_ATTACHED'
  | 'CNI_PLUGIN_FAILED'
  | 'CNI_PORT_INVALID'
  | 'CNI_RESULT_INVALID'
  | 'RUNTIME_ARCHIVE_INVALID'
  | 'RUNTIME_BLOB_DIGEST_MISMATCH'
  | 'RUNTIME_BLOB_INCOMPLETE'
  | 'RUNTIME_BLOB_MISSING'
  | 'RUNTIME_BLOB_SIZE_MISMATCH'
  | 'RUNTIME_CONTAINER_NOT_FOUND'
  | 'RUNTIME_CONTAINER_NOT_RUNNING'
  | 'RUNTIME_DIGEST_INVALID'
  | 'RUNTIME_DIGEST_UNSUPPORTED'
  | 'RUNTIME_DISK_RESERVE'
  | 'RUNTIME_IMAGE_CONFIG_INVALID'
  | 'RUNTIME_IMAGE_IN_USE'
  | 'RUNTIME_IMAGE_NOT_FOUND'
  | 'RUNTIME_LAYOUT_INVALID'
  | 'RUNTIME_MANIFEST_INVALID'
  | 'RUNTIME_MANIFEST_UNSUPPORTED'
  | 'RUNTIME_MONITOR_FAILED'
  | 'RUNTIME_NETWORK_UNAVAILABLE'
  | 'RUNTIME_NOT_STARTED'
  | 'RUNTIME_PLATFORM_NOT_FOUND'
  | 'RUNTIME_REFERENCE_INVALID'
  | 'RUNTIME_REGISTRY_AUTH'
  | 'RUNTIME_REGISTRY_FAILED'
  | 'RUNTIME_REGISTRY_INSECURE'
  | 'RUNTIME_REGISTRY_NOT_FOUND'
  | 'RUNTIME_REGISTRY_UNREACHABLE'
  | 'RUNTIME_ROOTFS_PATH'
  | 'RUNTIME_SPEC_INVALID'
  | 'RUNTIME_USER_UNKNOWN'
  | 'RUNTIME_VOLUME_UNSAFE';

/** runtime: every reason an image layer is refused (runtime/src/core/layer-entry.ts). Tests assert on these. */
export type RuntimeLayerErrorCode =
  /** `..`, absolute path, NUL byte, over-long name, or a parent that is not a directory. */
  | 'RUNTIME_LAYER_UNSAFE_PATH'
  /** An entry would be written through a symlink an earlier entry planted. */
  | 'RUNTIME_LAYER_SYMLINK_TRAVERSAL'
  /** A hard link pointing outside the layer, at a directory, at itself or at nothing. */
  | 'RUNTIME_LAYER_UNSAFE_LINK'
  /** A character or block device while devices are not allowed. */
  | 'RUNTIME_LAYER_DEVICE_NOT_ALLOWED'
  /** `.wh.` misuse: whiteout of `.`/`..`, whiteouts that are not plain files, paths under a whiteout name, aufs metadata, conflicts. */
  | 'RUNTIME_LAYER_BAD_WHITEOUT'
  /** The same path twice (other than a directory repeated). */
  | 'RUNTIME_LAYER_DUPLICATE_ENTRY'
  /** Entry types berth does not unpack (sparse, volume labels, unknown type flags). */
  | 'RUNTIME_LAYER_UNSUPPORTED_ENTRY'
  /** An extended attribute a layer may not set (trusted.*, unknown namespaces). */
  | 'RUNTIME_LAYER_UNSAFE_XATTR'
  /** More unpacked bytes (or archive bytes) than the configured maximum. */
  | 'RUNTIME_LAYER_TOO_LARGE'
  | 'RUNTIME_LAYER_TOO_MANY_ENTRIES'
  /** Not a tar, truncated, bad checksum, or a broken compressed stream. */
  | 'RUNTIME_LAYER_CORRUPT'
  /** The uncompressed stream does not hash to the diff_id the image config promises. */
  | 'RUNTIME_LAYER_DIFF_ID_MISMATCH'
  /** The target directory already exists. */
  | 'RUNTIME_LAYER_EXISTS'
  /** A filesystem operation failed (disk full, permissions). */
  | 'RUNTIME_LAYER_UNPACK_FAILED';

/** updater: channels, bundles, signatures, slots, the ESP, the journal, FleetLock. */
export type UpdaterErrorCode =
  | 'UPDATER_ALREADY_RUNNING'
  | 'UPDATER_BELOW_MIN_VERSION'
  | 'UPDATER_BUNDLE_EXISTS'
  | 'UPDATER_CGROUP_FAILED'
  | 'UPDATER_CHANNEL_EXPIRED'
  | 'UPDATER_CHANNEL_INVALID'
  | 'UPDATER_CHANNEL_UNSIGNED'
  | 'UPDATER_CONFIG'
  | 'UPDATER_DOWNGRADE_REFUSED'
  | 'UPDATER_DOWNLOAD_IO'
  | 'UPDATER_ENTRY_AMBIGUOUS'
  | 'UPDATER_ESP_PATH'
  | 'UPDATER_ESP_READ_FAILED'
  | 'UPDATER_ESP_UNAVAILABLE'
  | 'UPDATER_ESP_WRITE_FAILED'
  | 'UPDATER_FLEETLOCK_CONFIG'
  | 'UPDATER_FLEETLOCK_TIMEOUT'
  | 'UPDATER_FLEETLOCK_UNREACHABLE'
  | 'UPDATER_HASH_MISMATCH'
  | 'UPDATER_HTTP_ERROR'
  | 'UPDATER_ILLEGAL_TRANSITION'
  | 'UPDATER_INTERNAL'
  | 'UPDATER_JOURNAL_INVALID'
  | 'UPDATER_JOURNAL_UNREADABLE'
  | 'UPDATER_JOURNAL_WRITE_FAILED'
  | 'UPDATER_KEY_EXISTS'
  | 'UPDATER_KEY_INVALID'
  | 'UPDATER_KEY_WRITE_FAILED'
  | 'UPDATER_MANIFEST_INVALID'
  | 'UPDATER_NO_FALLBACK_ENTRY'
  | 'UPDATER_PAYLOAD_TOO_LARGE'
  | 'UPDATER_PAYLOAD_TRUNCATED'
  | 'UPDATER_PUBLISH_CONFLICT'
  | 'UPDATER_PUBLISH_NO_CHANNEL'
  | 'UPDATER_SERVER_UNREACHABLE'
  | 'UPDATER_SIGNATURE_INVALID'
  | 'UPDATER_SIGNATURE_WRONG_KEY'
  | 'UPDATER_SLOT_ACTIVE'
  | 'UPDATER_SLOT_NOT_FOUND'
  | 'UPDATER_SLOT_VERIFY_FAILED'
  | 'UPDATER_SLOT_WRITE_FAILED'
  | 'UPDATER_TIMEOUT'
  | 'UPDATER_VAR_FULL'
  | 'UPDATER_VERSION_BAD'
  | 'UPDATER_VERSION_INVALID'
  | 'UPDATER_VERSION_MISMATCH'
  | 'UPDATER_WRONG_ARCHITECTURE'
  | 'UPDATER_WRONG_CHANNEL'
  | 'UPDATER_ZSTD_MISSING'
  | 'UPDATER_CHANNEL_REPLAYED';

/** vm: QEMU machines, their console and shell, QMP, and `berth vm` (specs, test runs). */
export type VmErrorCode =
  | 'QEMU_CONSOLE_FAILURE'
  | 'QEMU_EXITED'
  | 'QEMU_FAILED'
  | 'QEMU_HOST_PORT_BUSY'
  | 'QEMU_IMAGE_INVALID'
  | 'QEMU_IMAGE_MISSING'
  | 'QEMU_MACHINE_BUSY'
  | 'QEMU_MACHINE_INVALID'
  | 'QEMU_NET_FORWARD_INVALID'
  | 'QEMU_OVERLAY_INVALID'
  | 'QEMU_SHELL_BUSY'
  | 'QEMU_SHELL_CLOSED'
  | 'QEMU_SHELL_COMMAND_FAILED'
  | 'QEMU_SHELL_TIMEOUT'
  | 'QEMU_SHELL_UNAVAILABLE'
  | 'QEMU_TIMEOUT'
  | 'QEMU_TOOL_MISSING'
  | 'QMP_CLOSED'
  | 'QMP_ERROR'
  | 'QMP_PROTOCOL'
  | 'VM_IMAGE_MISSING'
  | 'VM_NETWORK_FRAME_INVALID'
  | 'VM_SPEC_INVALID'
  | 'VM_TEST_CHECK_FAILED'
  | 'VM_TEST_NO_API';

/** fleet: the coordinator and its etcd store. */
export type FleetErrorCode =
  | 'FLEET_CONFIG_INVALID'
  | 'FLEET_CONFLICT_RETRIES'
  | 'FLEET_ETCD_ERROR'
  | 'FLEET_ETCD_UNAVAILABLE'
  | 'FLEET_REQUEST_ABANDONED'
  | 'FLEET_REQUEST_FAILED'
  | 'FLEET_STORE_CORRUPT';

/**
 * Stable, grep-able identifiers of every failure kind berth reports: closed, so a misspelled code
 * in a throw or a test fails tsc. A new code goes into its component's union above (one union
 * per component, each code named `<COMPONENT>_<WHAT>`); tests name codes through `errorCode()`.
 */
export type ErrorCode = LibErrorCode | BuildErrorCode | CliErrorCode | InitErrorCode | ApiErrorCode | RuntimeErrorCode | RuntimeLayerErrorCode | UpdaterErrorCode | VmErrorCode | FleetErrorCode;

/**
 * A code that came over a wire from another berth process (the API's error body, the slot
 * writer's outcome line): passed on as it is, since a newer peer may know codes this build
 * does not. The one place a string becomes an ErrorCode unchecked.
 */
export function codeFromWire(code: string): ErrorCode {
  return code as ErrorCode;
}

/** A code, checked: `t.throws(fn, { code: errorCode('CONFIG_INVALID') })` fails to compile when misspelled. */
export function errorCode<C extends ErrorCode>(code: C): C {
  return code;
}

export class BerthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.code = code;
  }
}

/** True when `error` is a BerthError with the given code (or any code when omitted). */
export function isBerthError(error: unknown, code?: ErrorCode): error is BerthError {
  return error instanceof BerthError && (code === undefined || error.code === code);
}

/** A one-line description of any thrown value, for logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = error instanceof BerthError ? `[${error.code}] ` : '';
    const cause = error.cause === undefined ? '' : `: ${describeError(error.cause)}`;
    return `${code}${error.message}${cause}`;
  }
  return String(error);
}

/** The errno code (`ENOENT`, `EEXIST`, ...) of a failed system call, undefined for anything else. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
