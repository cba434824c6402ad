/**
 * The one error base class of berth. Every failure a user can see carries a stable
 * `code` (tests assert on it) and a message that names the object and what to do.
 */

/** Stable, grep-able identifiers of every failure kind berth reports. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'PROFILE_INVALID'
  | 'BUILD_STEP_FAILED'
  | 'BUILD_TOOL_MISSING'
  | 'EXEC_NOT_STARTED'
  | 'EXEC_EXIT_NONZERO'
  | 'EXEC_SIGNALED'
  | 'EXEC_TIMEOUT'
  | 'BOOT_ENTRY_INVALID'
  | 'INIT_MOUNT_FAILED'
  | 'INIT_DATA_PARTITION'
  | 'QEMU_FAILED'
  | 'QEMU_TIMEOUT'
  | 'CLI_USAGE'
  | (string & {});

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
