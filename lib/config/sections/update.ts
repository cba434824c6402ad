/**
 * The `update:` section of the machine config: where releases come from (`server`, `channel`),
 * when the host may reboot into one (`strategy` as a list of gates, `window`, `fleetlock`, `soak`),
 * which releases it may take (`pin`, `max_version`) and how hard the writer may push (`throttle`).
 * `updateSection` is the Shape machine-config.ts spreads into the top level; `parseUpdateSettings`
 * checks the section on its own. The updater (updater/src/host.ts) acts on the result. Pure.
 */
import { compareVersions, isSemVer } from '../../semver.ts';
import { problemLine } from '../problems.ts';
import { boolean, custom, duration, INVALID, object, string, validate, type Schema, type Shape } from '../validate.ts';
import { pemOrPath } from './api.ts';
import { throttleSchema, type ThrottleLimits } from './update-throttle.ts';
import { rebootWindowSchema, type RebootWindow } from './update-window.ts';

/** A gate that must hold before the host reboots into a staged update. */
export type GateName = 'window' | 'fleetlock' | 'soak' | 'manual';
export const GATE_NAMES: readonly GateName[] = ['window', 'fleetlock', 'soak', 'manual'];

/** `strategy:` shorthands kept from the first form of the config (README contract). */
export type RebootStrategy = 'immediate' | GateName;
export const REBOOT_STRATEGIES: readonly RebootStrategy[] = ['immediate', ...GATE_NAMES];

/**
 * The gates of a strategy, in the order the agent checks them. `immediate` is no gates; the
 * lock is always taken last, once every other gate holds, so a lock is never held while the
 * host waits for something else.
 */
export function gatesOf(strategy: RebootStrategy | readonly GateName[]): GateName[] {
  const list: readonly RebootStrategy[] = typeof strategy === 'string' ? [strategy] : strategy;
  return GATE_NAMES.filter((gate) => list.includes(gate));
}

/** How status shows a gate list: `immediate`, `window`, `window+fleetlock`. */
export function describeGates(gates: readonly GateName[]): string {
  return gates.length === 0 ? 'immediate' : gates.join('+');
}

/** `pin: 2.3.x` (or `2.x`) and `max_version: 2.4.0`: which releases this host may take. */
export interface VersionPin {
  /** The fixed leading numbers of `pin`: [2, 3] for `2.3.x`. */
  prefix?: readonly number[];
  /** The text as written, for messages. */
  pin?: string;
  /** Inclusive upper bound. */
  maxVersion?: string;
}

const PIN_RE = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?\.x$/;

/** Parses `2.x` or `2.3.x`; undefined for anything else. */
export function parsePin(text: string): readonly number[] | undefined {
  const match = PIN_RE.exec(text);
  if (!match) return undefined;
  return match[2] === undefined ? [Number(match[1])] : [Number(match[1]), Number(match[2])];
}

/** `update.max_metadata_age` default: hosts refuse metadata signed longer ago than this. */
export const DEFAULT_MAX_METADATA_AGE_MS = 3 * 86_400_000;


export interface UpdateSettings {
  /** Base URL of the directory `berth publish` wrote; always ends with '/'. */
  server: string;
  channel: string;
  checkIntervalMs: number;
  /** The reboot gates, in check order (updater/src/core/reboot-gates.ts); empty = immediate. */
  gates: readonly GateName[];
  /** How status names them: `immediate`, `window`, `window+fleetlock`. */
  strategy: string;
  window?: RebootWindow;
  /** Which releases the host may take (`pin`, `max_version`); empty = any. */
  pin: VersionPin;
  fleetlock?: FleetLockSettings;
  throttle: ThrottleLimits;
  soakMs: number;
  allowDowngrade: boolean;
  /** Refuse channel metadata signed longer ago than this (updater's release.ts assertChannelFresh). */
  maxMetadataAgeMs: number;
  /** Places the host in a rollout's waves; default: the machine id. */
  seed?: string;
}

/** `update.fleetlock:` as validated. */
export interface FleetLockSettings {
  /** Base URL of the FleetLock server; ends with '/'. */
  url: string;
  group: string;
  /** The FleetLock id; default: the id of the host certificate (`host:<id>`), else a hash of the machine id. */
  id?: string;
  /** TLS towards the server, each PEM text or an absolute path: the CA its certificate chains to, and this host's client certificate and key (`berth keys fleet host ID`). */
  tls?: { ca?: string; cert?: string; key?: string };
}

export const UPDATE_DEFAULTS = {
  channel: 'stable',
  checkIntervalMs: 3_600_000,
  strategy: 'immediate',
  soakMs: 120_000,
  allowDowngrade: false,
  maxMetadataAgeMs: DEFAULT_MAX_METADATA_AGE_MS,
};

/** An http(s) URL, normalised to end with '/' (a directory). */
const directoryUrl = (what: string): Schema<string> =>
  custom<string>(
    `an http(s) URL of ${what}`,
    (value) => {
      if (typeof value !== 'string') return INVALID;
      try {
        const url = new URL(value);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') return INVALID;
        return url.href.endsWith('/') ? url.href : `${url.href}/`;
      } catch {
        return INVALID;
      }
    },
    (value) => typeof value === 'string',
  );

/**
 * `strategy:` is one gate name (or `immediate`, no gates), the form of the first config, or a
 * list of gates that must all hold: `[window, fleetlock]`. `immediate` is not a gate and is
 * refused inside a list, as are repeats: neither would mean anything.
 */
const strategySchema = custom<GateName[]>(
  `one of ${REBOOT_STRATEGIES.join(', ')}, or a list of gates such as [window, fleetlock]`,
  (value, report) => {
    if (typeof value === 'string') return (REBOOT_STRATEGIES as readonly string[]).includes(value) ? gatesOf(value as RebootStrategy) : INVALID;
    if (!Array.isArray(value)) return INVALID;
    let isValid = true;
    const seen = new Set<string>();
    value.forEach((item: unknown, i) => {
      if (item === 'immediate') {
        report('"immediate" means no gates: write strategy: immediate (or []) on its own', { path: [i] });
        isValid = false;
      } else if (typeof item !== 'string' || !(GATE_NAMES as readonly string[]).includes(item)) {
        report(`expected a gate (${GATE_NAMES.join(', ')}) but got ${JSON.stringify(item)}`, { path: [i] });
        isValid = false;
      } else if (seen.has(item)) {
        report(`gate "${item}" is listed twice`, { path: [i] });
        isValid = false;
      }
      if (typeof item === 'string') seen.add(item);
    });
    return isValid ? gatesOf(value as GateName[]) : INVALID;
  },
  (value) => typeof value === 'string' || Array.isArray(value),
);

const pinSchema = custom<string>(
  'a version pin such as "2.3.x" or "2.x"',
  (value) => (typeof value === 'string' && parsePin(value) !== undefined ? value : INVALID),
  (value) => typeof value === 'string',
);

const versionSchema = custom<string>('a semantic version such as "2.4.0"', (value) => (isSemVer(value) ? value : INVALID), (value) => typeof value === 'string');

const fleetlockSchema = object({
  url: directoryUrl('a FleetLock server'),
  // The protocol's group rule, as in updater/src/core/fleetlock-names.ts.
  group: string({ pattern: /[a-zA-Z0-9.-]+/, expected: 'a FleetLock group (letters, digits, "." and "-")' }).default('default'),
  // The protocol's id rule, as lib/fleet/protocol.ts checks it on the coordinator.
  id: string({ pattern: /[^\u0000-\u001f/]{1,128}/, expected: 'a FleetLock id (1 to 128 characters, no "/" or control characters)' }).optional(),
  tls: object({ ca: pemOrPath.optional(), cert: pemOrPath.optional(), key: pemOrPath.optional() }).optional(),
}).refine((f, report) => {
  if (f.tls === undefined) return;
  if ((f.tls.cert === undefined) !== (f.tls.key === undefined)) report('tls.cert and tls.key go together: give both (berth keys fleet host ID writes them) or neither', { path: ['tls'] });
  if (!f.url.startsWith('https:')) report(`tls is set but url ${f.url} is plain http, so it would do nothing: use an https URL or remove tls`, { path: ['tls'], at: 'key' });
});

/** The schema of `update:` (lib/config toolkit). */
export const updateSchema: Schema<UpdateSettings> = object({
  server: directoryUrl('the directory written by berth publish'),
  channel: string({ pattern: /[a-z0-9][a-z0-9._-]{0,62}/, expected: 'a channel name such as "stable" (lowercase letters, digits, ".", "_", "-")' }).default(UPDATE_DEFAULTS.channel),
  check_interval: duration({ min: 60_000 }).default(UPDATE_DEFAULTS.checkIntervalMs),
  strategy: strategySchema.default([]),
  window: rebootWindowSchema.optional(),
  fleetlock: fleetlockSchema.optional(),
  pin: pinSchema.optional(),
  max_version: versionSchema.optional(),
  throttle: throttleSchema.default(),
  soak: duration().default(UPDATE_DEFAULTS.soakMs),
  allow_downgrade: boolean().default(UPDATE_DEFAULTS.allowDowngrade),
  max_metadata_age: duration({ min: 3_600_000 }).default(UPDATE_DEFAULTS.maxMetadataAgeMs),
  seed: string({ pattern: /\S.{0,255}/, expected: 'a seed string (1 to 256 characters) that places this host in a rollout wave' }).optional(),
})
  .refine((u, report) => {
    // Nothing is silently ignored: a gate needs its settings, and settings need their gate.
    const shown = describeGates(u.strategy);
    if (u.strategy.includes('window') && u.window === undefined) report(`strategy "${shown}" needs update.window: { days, start, length, time_zone }`);
    if (u.strategy.includes('fleetlock') && u.fleetlock === undefined) report(`strategy "${shown}" needs update.fleetlock: { url, group }`);
    if (!u.strategy.includes('window') && u.window !== undefined) {
      report(`window is set but strategy "${shown}" has no window gate, so it would do nothing: add window to strategy (e.g. [${[...u.strategy, 'window'].join(', ')}]) or remove it`, { path: ['window'], at: 'key' });
    }
    if (!u.strategy.includes('fleetlock') && u.fleetlock !== undefined) {
      report(`fleetlock is set but strategy "${shown}" has no fleetlock gate, so it would do nothing: add fleetlock to strategy (e.g. [${[...u.strategy, 'fleetlock'].join(', ')}]) or remove it`, { path: ['fleetlock'], at: 'key' });
    }
    if (u.pin !== undefined && u.max_version !== undefined) {
      const prefix = parsePin(u.pin) ?? [];
      const lowest = `${prefix[0] ?? 0}.${prefix[1] ?? 0}.0`;
      if (compareVersions(u.max_version, lowest) < 0) report(`max_version ${u.max_version} is below every version of pin ${u.pin}, so no release could ever be taken: raise max_version or change the pin`, { path: ['max_version'] });
    }
  })
  .transform((u) => ({
    server: u.server,
    channel: u.channel,
    checkIntervalMs: u.check_interval,
    gates: u.strategy,
    strategy: describeGates(u.strategy),
    ...(u.window !== undefined ? { window: u.window } : {}),
    pin: {
      ...(u.pin !== undefined ? { pin: u.pin, prefix: parsePin(u.pin) ?? [] } : {}),
      ...(u.max_version !== undefined ? { maxVersion: u.max_version } : {}),
    },
    ...(u.fleetlock !== undefined ? { fleetlock: u.fleetlock } : {}),
    throttle: u.throttle,
    soakMs: u.soak,
    allowDowngrade: u.allow_downgrade,
    maxMetadataAgeMs: u.max_metadata_age,
    ...(u.seed !== undefined ? { seed: u.seed } : {}),
  }));

/** The machine-config section: `update:` is optional; without it the host never updates itself. */
export const updateSection = {
  update: updateSchema.optional(),
} satisfies Shape;

/** Validates `update:` on its own; problems are `<path>: <message>` lines. */
export function parseUpdateSettings(value: unknown, path = 'update'): { settings?: UpdateSettings; problems: string[] } {
  const result = validate(updateSchema, value);
  if (!result.ok) return { problems: result.problems.map((p) => problemLine(path, p)) };
  return { settings: result.value, problems: [] };
}
