/**
 * Reboot-window arithmetic for `strategy: window`: whether an instant lies inside a
 * weekly window given in a time zone, and when the next one opens. A window opens at
 * the local wall time `start` on each listed day and lasts `length` of elapsed time;
 * on a spring-forward day a start inside the skipped hour opens at the same offset
 * past the jump (02:30 → 03:30), on a fall-back day a repeated start opens at its
 * first occurrence. Time zones come from Intl (ICU); the `update.window` schema is
 * lib/config/sections/update-window.ts. Pure: `now` is a parameter.
 */
import { WEEKDAYS, type RebootWindow, type Weekday } from '../../../lib/config/sections/update-window.ts';

export { isTimeZone, parseRebootWindow, rebootWindowSchema, WEEKDAYS, type RebootWindow, type Weekday } from '../../../lib/config/sections/update-window.ts';

const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading in `timeZone` at instant `ms`. */
function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return { year: parts.year ?? 0, month: parts.month ?? 1, day: parts.day ?? 1, hour: parts.hour ?? 0, minute: parts.minute ?? 0, second: parts.second ?? 0 };
}

/** The zone's UTC offset at instant `ms`, in ms (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the wall clock in `timeZone` reads the given local time. For a
 * repeated time (fall back) the earlier instant; for a skipped time (spring forward)
 * the instant as if the old offset still applied, which lands past the jump.
 */
export function zonedTimeToInstant(year: number, month: number, day: number, minutes: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  // Offsets in force around that wall time: transitions are far more than a day apart.
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const candidates = [wall - before, wall - after].filter((ms) => {
    const t = localTime(ms, timeZone);
    return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) === wall;
  });
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}

export interface WindowOccurrence {
  opensAt: Date;
  closesAt: Date;
}

function occurrencesAround(window: RebootWindow, nowMs: number, daysBack: number, daysForward: number): WindowOccurrence[] {
  const today = localTime(nowMs, window.timeZone);
  const out: WindowOccurrence[] = [];
  for (let k = -daysBack; k <= daysForward; k++) {
    // Calendar arithmetic on the local date, via UTC (no DST there).
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + k));
    if (!window.days.includes(WEEKDAYS[date.getUTCDay()] as Weekday)) continue;
    const opens = zonedTimeToInstant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), window.startMinutes, window.timeZone);
    out.push({ opensAt: new Date(opens), closesAt: new Date(opens + window.lengthMs) });
  }
  return out;
}

export type WindowStatus = { inside: true; closesAt: Date } | { inside: false; opensAt: Date; closesAt: Date };

/** Whether `now` is inside the window, and when it closes or next opens. */
export function evaluateWindow(window: RebootWindow, now: Date): WindowStatus {
  const nowMs = now.getTime();
  const daysBack = Math.ceil(window.lengthMs / DAY_MS) + 1;
  const all = occurrencesAround(window, nowMs, daysBack, 8);
  const current = all.filter((o) => o.opensAt.getTime() <= nowMs && nowMs < o.closesAt.getTime());
  if (current.length > 0) {
    // Overlapping or touching occurrences form one window: inside until the chain ends
    // (within the 8 days looked at).
    let closes = Math.max(...current.map((o) => o.closesAt.getTime()));
    for (const o of all) if (o.opensAt.getTime() <= closes) closes = Math.max(closes, o.closesAt.getTime());
    return { inside: true, closesAt: new Date(closes) };
  }
  const next = all.find((o) => o.opensAt.getTime() > nowMs);
  if (!next) throw new Error('unreachable: a window with at least one day opens within 8 days');
  return { inside: false, opensAt: next.opensAt, closesAt: next.closesAt };
}
