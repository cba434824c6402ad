/**
 * The fleet wire contract shared by the coordinator (fleet/) and the host's agent (updater/):
 * the FleetLock protocol exactly as Zincati speaks it, plus berth's additions (the host report
 * and the halt refusal), each with a pure validator that reports every problem with its path.
 * Pure: no effects.
 */

// --- FleetLock (Zincati's protocol) ---------------------------------------------------------

/** The header every FleetLock request carries, with the fixed value `true`, so a redirected request is never taken as meant. */
export const FLEETLOCK_HEADER = 'fleet-lock-protocol';

/** The routes, relative to the server's base URL. */
export const FLEETLOCK_ROUTES = {
  /** RecursiveLock: take (or keep) a reboot slot. */
  preReboot: '/v1/pre-reboot',
  /** UnlockIfHeld: give back the slot (fine when none is held). */
  steadyState: '/v1/steady-state',
} as const;

/** berth's addition: the host's update status, POSTed with the same header. */
export const REPORT_ROUTE = '/v1/report';

/** Group names the protocol allows. */
export const FLEETLOCK_GROUP_PATTERN = /^[a-zA-Z0-9.-]+$/;

/** Zincati's default group. */
export const FLEETLOCK_DEFAULT_GROUP = 'default';

/** Longest client id the coordinator accepts (Zincati's are 32 hex digits). */
export const FLEETLOCK_MAX_ID_LENGTH = 128;

/** The identity both FleetLock requests and berth's report carry. */
export interface ClientParams {
  /** Case-sensitive, non-empty label that identifies the lock holder. */
  id: string;
  /** Reboot group, matching FLEETLOCK_GROUP_PATTERN. */
  group: string;
}

/** The body of `POST /v1/pre-reboot` and `POST /v1/steady-state`: `{"client_params":{"id":…,"group":…}}`. */
export interface FleetLockRequest {
  client_params: ClientParams;
}

/** The error body of any non-200 answer: a small-cardinality `kind` and a human `value`, both non-empty. */
export interface FleetLockError {
  kind: string;
  value: string;
}

/** The `kind`s the coordinator answers with. */
export type FleetLockErrorKind =
  | 'failed_lock_semaphore_full'
  | 'version_halted'
  | 'bad_request'
  | 'missing_protocol_header'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'store_unavailable'
  | 'internal_error';

/** A validator's answer: the value, or every problem found (each `path: what is wrong`). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** True when the header value is the protocol's fixed `true` (a Node header may be a string, a list or absent). */
export function hasFleetLockHeader(value: string | readonly string[] | null | undefined): boolean {
  const first = Array.isArray(value) ? (value as readonly string[])[0] : (value as string | null | undefined);
  return typeof first === 'string' && first.trim().toLowerCase() === 'true';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `'${value.slice(0, 40)}'` : typeof value;
}

function checkClientParams(value: unknown, path: string, problems: string[]): ClientParams | undefined {
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object with 'id' and 'group', got ${describe(value)}`);
    return undefined;
  }
  // Unknown keys inside client_params are tolerated: this is Zincati's protocol, and a newer
  // client adding a field must not be locked out of rebooting.
  const { id, group } = value;
  if (typeof id !== 'string' || id === '') problems.push(`${path}.id: expected a non-empty string, got ${describe(id)}`);
  else if (id.length > FLEETLOCK_MAX_ID_LENGTH) problems.push(`${path}.id: longer than ${FLEETLOCK_MAX_ID_LENGTH} characters`);
  else if (/[\u0000-\u001f/]/.test(id)) problems.push(`${path}.id: must not contain '/' or control characters`);
  if (typeof group !== 'string' || group === '') problems.push(`${path}.group: expected a non-empty string, got ${describe(group)}`);
  else if (!FLEETLOCK_GROUP_PATTERN.test(group)) problems.push(`${path}.group: '${group.slice(0, 40)}' must match ^[a-zA-Z0-9.-]+$`);
  return typeof id === 'string' && typeof group === 'string' ? { id, group } : undefined;
}

/** Validates a FleetLock request body (already JSON-parsed). */
export function parseFleetLockRequest(body: unknown): Parsed<FleetLockRequest> {
  const problems: string[] = [];
  if (!isRecord(body)) return { ok: false, problems: [`body: expected a JSON object with 'client_params', got ${describe(body)}`] };
  const params = checkClientParams(body.client_params, 'client_params', problems);
  if (problems.length > 0 || !params) return { ok: false, problems };
  return { ok: true, value: { client_params: params } };
}

/** Validates an error body as the protocol defines it: `kind` and `value`, non-empty strings. */
export function parseFleetLockError(body: unknown): Parsed<FleetLockError> {
  if (!isRecord(body)) return { ok: false, problems: [`body: expected a JSON object with 'kind' and 'value', got ${describe(body)}`] };
  const problems: string[] = [];
  if (typeof body.kind !== 'string' || body.kind === '') problems.push(`kind: expected a non-empty string, got ${describe(body.kind)}`);
  if (typeof body.value !== 'string' || body.value === '') problems.push(`value: expected a non-empty string, got ${describe(body.value)}`);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { kind: body.kind as string, value: body.value as string } };
}

// --- berth's additions: the host report -----------------------------------------------------

/** The update phases of berth's agent (updater/src/core/state.ts), as the report carries them. */
export const REPORT_PHASES = ['idle', 'checking', 'downloading', 'verifying', 'staged', 'rebooting', 'confirming', 'succeeded', 'rolled-back', 'failed'] as const;
export type ReportPhase = (typeof REPORT_PHASES)[number];

/** The host's update status, sent on every change and periodically. */
export interface HostStatus {
  /** The version the host runs now. */
  version: string;
  /** The slot it booted from. */
  slot: 'a' | 'b';
  phase: ReportPhase;
  /** The version it is moving to (downloading … confirming), or the one that just failed or rolled back. */
  target_version?: string;
  /** Versions that rolled back on this host and are never installed again automatically. */
  bad_versions: string[];
  /** Rollbacks on this host since it was installed. */
  rollbacks: number;
  /** The last failure, as the agent's error code and message. */
  last_error?: { code: string; message: string };
}

/** The body of `POST /v1/report`. */
export interface HostReport {
  client_params: ClientParams;
  status: HostStatus;
}

const STATUS_KEYS = new Set(['version', 'slot', 'phase', 'target_version', 'bad_versions', 'rollbacks', 'last_error']);
const MAX_VERSION_LENGTH = 128;
const MAX_BAD_VERSIONS = 64;

function checkVersion(value: unknown, path: string, problems: string[]): void {
  if (typeof value !== 'string' || value === '') problems.push(`${path}: expected a non-empty version string, got ${describe(value)}`);
  else if (value.length > MAX_VERSION_LENGTH || /[\u0000-\u001f/]/.test(value)) problems.push(`${path}: '${value.slice(0, 40)}' is not a version (at most ${MAX_VERSION_LENGTH} characters, no '/')`);
}

/** Validates a host report; berth's own body, so unknown keys are rejected (a typo never passes silently). */
export function parseHostReport(body: unknown): Parsed<HostReport> {
  if (!isRecord(body)) return { ok: false, problems: [`body: expected a JSON object with 'client_params' and 'status', got ${describe(body)}`] };
  const problems: string[] = [];
  for (const key of Object.keys(body)) if (key !== 'client_params' && key !== 'status') problems.push(`${key}: unknown key (expected client_params, status)`);
  const params = checkClientParams(body.client_params, 'client_params', problems);
  const status = body.status;
  if (!isRecord(status)) {
    problems.push(`status: expected an object, got ${describe(status)}`);
    return { ok: false, problems };
  }
  for (const key of Object.keys(status)) if (!STATUS_KEYS.has(key)) problems.push(`status.${key}: unknown key (expected ${[...STATUS_KEYS].join(', ')})`);
  checkVersion(status.version, 'status.version', problems);
  if (status.slot !== 'a' && status.slot !== 'b') problems.push(`status.slot: expected 'a' or 'b', got ${describe(status.slot)}`);
  if (!REPORT_PHASES.includes(status.phase as ReportPhase)) problems.push(`status.phase: expected one of ${REPORT_PHASES.join(', ')}, got ${describe(status.phase)}`);
  if (status.target_version !== undefined) checkVersion(status.target_version, 'status.target_version', problems);
  if (!Array.isArray(status.bad_versions)) problems.push(`status.bad_versions: expected an array of versions, got ${describe(status.bad_versions)}`);
  else {
    if (status.bad_versions.length > MAX_BAD_VERSIONS) problems.push(`status.bad_versions: more than ${MAX_BAD_VERSIONS} entries`);
    status.bad_versions.forEach((v: unknown, i) => checkVersion(v, `status.bad_versions[${i}]`, problems));
  }
  if (typeof status.rollbacks !== 'number' || !Number.isSafeInteger(status.rollbacks) || status.rollbacks < 0) {
    problems.push(`status.rollbacks: expected a non-negative integer, got ${describe(status.rollbacks)}`);
  }
  if (status.last_error !== undefined) {
    const e = status.last_error;
    if (!isRecord(e) || typeof e.code !== 'string' || typeof e.message !== 'string') problems.push(`status.last_error: expected {code, message} strings, got ${describe(e)}`);
    else for (const key of Object.keys(e)) if (key !== 'code' && key !== 'message') problems.push(`status.last_error.${key}: unknown key (expected code, message)`);
  }
  if (problems.length > 0 || !params) return { ok: false, problems };
  const s = status as unknown as HostStatus;
  const value: HostStatus = {
    version: s.version,
    slot: s.slot,
    phase: s.phase,
    bad_versions: [...s.bad_versions],
    rollbacks: s.rollbacks,
    ...(s.target_version !== undefined ? { target_version: s.target_version } : {}),
    ...(s.last_error !== undefined ? { last_error: { code: s.last_error.code.slice(0, 100), message: s.last_error.message.slice(0, 500) } } : {}),
  };
  return { ok: true, value: { client_params: params, status: value } };
}

// --- berth's additions: the halt refusal ----------------------------------------------------

/** Why a version is halted: the automatic policy's figures, or an operator's words. */
export interface HaltInfo {
  version: string;
  /** One line, e.g. `2 hosts rolled back (policy: halt at 2 failures or 5% of 40 takers)`. */
  reason: string;
  /** `policy` for the automatic halt, `admin` for `berth fleet halt`. */
  by: 'policy' | 'admin';
  /** ISO 8601 time of the halt. */
  since: string;
}

/**
 * The pre-reboot refusal for a host moving to a halted version (HTTP 409): a FleetLock error
 * body (so Zincati logs `value`) carrying `halt`, from which berth's agent learns to stop trying
 * that version until it is resumed. The version is not marked bad.
 */
export interface HaltRefusal extends FleetLockError {
  kind: 'version_halted';
  halt: HaltInfo;
}

/** HTTP status of a halt refusal. */
export const HALT_REFUSAL_STATUS = 409;

/** Builds the refusal body for a halt. */
export function haltRefusal(halt: HaltInfo): HaltRefusal {
  return { kind: 'version_halted', value: `Version ${halt.version} is halted: ${halt.reason}`, halt };
}

/** Validates a halt refusal (anything else, including other FleetLock errors, fails with problems). */
export function parseHaltRefusal(body: unknown): Parsed<HaltRefusal> {
  const base = parseFleetLockError(body);
  if (!base.ok) return base;
  const record = body as Record<string, unknown>;
  const problems: string[] = [];
  if (base.value.kind !== 'version_halted') problems.push(`kind: expected 'version_halted', got '${base.value.kind.slice(0, 40)}'`);
  const halt = record.halt;
  if (!isRecord(halt)) problems.push(`halt: expected an object, got ${describe(halt)}`);
  else {
    checkVersion(halt.version, 'halt.version', problems);
    if (typeof halt.reason !== 'string' || halt.reason === '') problems.push(`halt.reason: expected a non-empty string, got ${describe(halt.reason)}`);
    if (halt.by !== 'policy' && halt.by !== 'admin') problems.push(`halt.by: expected 'policy' or 'admin', got ${describe(halt.by)}`);
    if (typeof halt.since !== 'string' || Number.isNaN(Date.parse(halt.since))) problems.push(`halt.since: expected an ISO 8601 time, got ${describe(halt.since)}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const h = halt as HaltInfo;
  return { ok: true, value: { kind: 'version_halted', value: base.value.value, halt: { version: h.version, reason: h.reason, by: h.by, since: h.since } } };
}

// --- berth's additions: host identity -------------------------------------------------------

/** The common-name prefix of a host certificate (`berth keys fleet host ID` writes `host:<ID>`); the coordinator lets it lock, release and report only as that id. */
export const HOST_CERT_CN_PREFIX = 'host:';

/** The FleetLock id a host certificate's common name gives, or undefined when it names no host. */
export function hostIdOfCommonName(commonName: string | undefined): string | undefined {
  if (commonName === undefined || !commonName.startsWith(HOST_CERT_CN_PREFIX)) return undefined;
  const id = commonName.slice(HOST_CERT_CN_PREFIX.length);
  return id === '' ? undefined : id;
}
