/**
 * The `update:` section of the machine config, validated into typed settings: every
 * problem at once with its path, unknown keys rejected. Uses the updater's local unit
 * parsers (lib/config had not landed when this was written). Pure.
 */
import { isFleetLockGroupName } from './fleetlock-names.ts';
import { isChannelName } from './release.ts';
import { parseThrottle, type ThrottleLimits } from './throttle.ts';
import { isRecord, parseDuration, unknownKeyProblems } from './units.ts';
import { parseRebootWindow, type RebootWindow } from './window.ts';

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

const KEYS = ['server', 'channel', 'check_interval', 'strategy', 'window', 'fleetlock', 'throttle', 'soak', 'allow_downgrade'];

function httpUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Validates `update:`; undefined settings when there are problems. */
export function parseUpdateSettings(value: unknown, path = 'update'): { settings?: UpdateSettings; problems: string[] } {
  if (!isRecord(value)) return { problems: [`${path}: expected a mapping with at least server`] };
  const problems = unknownKeyProblems(value, KEYS, path);
  const server = httpUrl(value.server);
  if (!server) problems.push(`${path}.server: expected an http(s) URL of the directory written by berth publish`);
  const channel = value.channel ?? UPDATE_DEFAULTS.channel;
  if (!isChannelName(channel)) problems.push(`${path}.channel: expected a channel name such as stable`);
  let checkIntervalMs = UPDATE_DEFAULTS.checkIntervalMs;
  if (value.check_interval !== undefined) {
    const r = parseDuration(value.check_interval);
    if (!r.ok) problems.push(`${path}.check_interval: ${r.problem}`);
    else if (r.value < 60_000) problems.push(`${path}.check_interval: expected at least 1m`);
    else checkIntervalMs = r.value;
  }
  const strategy = (value.strategy ?? UPDATE_DEFAULTS.strategy) as RebootStrategy;
  if (!REBOOT_STRATEGIES.includes(strategy)) problems.push(`${path}.strategy: expected one of ${REBOOT_STRATEGIES.join(', ')}`);
  let window: RebootWindow | undefined;
  if (value.window !== undefined || strategy === 'window') {
    const r = parseRebootWindow(value.window, `${path}.window`);
    problems.push(...r.problems);
    window = r.window;
  }
  let fleetlock: { url: string; group: string } | undefined;
  if (value.fleetlock !== undefined || strategy === 'fleetlock') {
    const f = value.fleetlock;
    if (!isRecord(f)) problems.push(`${path}.fleetlock: expected { url, group }`);
    else {
      problems.push(...unknownKeyProblems(f, ['url', 'group'], `${path}.fleetlock`));
      const url = httpUrl(f.url);
      if (!url) problems.push(`${path}.fleetlock.url: expected an http(s) URL of a FleetLock server`);
      const group = f.group ?? 'default';
      if (!isFleetLockGroupName(group)) problems.push(`${path}.fleetlock.group: expected letters, digits, '.' and '-'`);
      if (url && isFleetLockGroupName(group)) fleetlock = { url: url.href, group };
    }
  }
  const throttle = parseThrottle(value.throttle, `${path}.throttle`);
  problems.push(...throttle.problems);
  let soakMs = UPDATE_DEFAULTS.soakMs;
  if (value.soak !== undefined) {
    const r = parseDuration(value.soak);
    if (!r.ok) problems.push(`${path}.soak: ${r.problem}`);
    else soakMs = r.value;
  }
  const allowDowngrade = value.allow_downgrade ?? UPDATE_DEFAULTS.allowDowngrade;
  if (typeof allowDowngrade !== 'boolean') problems.push(`${path}.allow_downgrade: expected true or false`);
  if (problems.length > 0 || !server) return { problems };
  const href = server.href.endsWith('/') ? server.href : `${server.href}/`;
  return {
    settings: {
      server: href,
      channel: channel as string,
      checkIntervalMs,
      strategy,
      ...(window ? { window } : {}),
      ...(fleetlock ? { fleetlock } : {}),
      throttle: throttle.limits ?? {},
      soakMs,
      allowDowngrade: allowDowngrade as boolean,
    },
    problems,
  };
}
