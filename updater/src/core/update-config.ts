/**
 * The `update:` section of the machine config as a lib/config schema: `updateSection`
 * is the Shape lib/config/machine-config.ts spreads into the top level, and
 * `parseUpdateSettings` checks the section on its own. Every problem at once, with its
 * path; unknown keys rejected. Pure.
 */
import { boolean, custom, duration, INVALID, object, oneOf, string, validate, type Schema, type Shape } from '../../../lib/config/validate.ts';
import { throttleSchema, type ThrottleLimits } from './throttle.ts';
import { problemLine } from './units.ts';
import { rebootWindowSchema, type RebootWindow } from './window.ts';

export type RebootStrategy = 'immediate' | 'window' | 'fleetlock' | 'manual';
export const REBOOT_STRATEGIES: readonly RebootStrategy[] = ['immediate', 'window', 'fleetlock', 'manual'];

export interface UpdateSettings {
  /** Base URL of the directory `berth publish` wrote; always ends with '/'. */
  server: string;
  channel: string;
  checkIntervalMs: number;
  strategy: RebootStrategy;
  window?: RebootWindow;
  fleetlock?: { url: string; group: string };
  throttle: ThrottleLimits;
  soakMs: number;
  allowDowngrade: boolean;
}

export const UPDATE_DEFAULTS = {
  channel: 'stable',
  checkIntervalMs: 3_600_000,
  strategy: 'immediate' as RebootStrategy,
  soakMs: 120_000,
  allowDowngrade: false,
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

const fleetlockSchema = object({
  url: directoryUrl('a FleetLock server'),
  // The protocol's group rule, as in fleetlock-names.ts.
  group: string({ pattern: /[a-zA-Z0-9.-]+/, expected: 'a FleetLock group (letters, digits, "." and "-")' }).default('default'),
});

/** The schema of `update:` (lib/config toolkit). */
export const updateSchema: Schema<UpdateSettings> = object({
  server: directoryUrl('the directory written by berth publish'),
  channel: string({ pattern: /[a-z0-9][a-z0-9._-]{0,62}/, expected: 'a channel name such as "stable" (lowercase letters, digits, ".", "_", "-")' }).default(UPDATE_DEFAULTS.channel),
  check_interval: duration({ min: 60_000 }).default(UPDATE_DEFAULTS.checkIntervalMs),
  strategy: oneOf(REBOOT_STRATEGIES).default(UPDATE_DEFAULTS.strategy),
  window: rebootWindowSchema.optional(),
  fleetlock: fleetlockSchema.optional(),
  throttle: throttleSchema.default(),
  soak: duration().default(UPDATE_DEFAULTS.soakMs),
  allow_downgrade: boolean().default(UPDATE_DEFAULTS.allowDowngrade),
})
  .refine((u, report) => {
    if (u.strategy === 'window' && u.window === undefined) report('strategy "window" needs update.window: { days, start, length, time_zone }');
    if (u.strategy === 'fleetlock' && u.fleetlock === undefined) report('strategy "fleetlock" needs update.fleetlock: { url, group }');
  })
  .transform((u) => ({
    server: u.server,
    channel: u.channel,
    checkIntervalMs: u.check_interval,
    strategy: u.strategy,
    ...(u.window !== undefined ? { window: u.window } : {}),
    ...(u.fleetlock !== undefined ? { fleetlock: u.fleetlock } : {}),
    throttle: u.throttle,
    soakMs: u.soak,
    allowDowngrade: u.allow_downgrade,
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
