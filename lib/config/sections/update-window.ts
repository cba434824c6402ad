/**
 * The `update.window` schema of the machine config: a weekly reboot window `{ days, start,
 * length, time_zone }` with days by short or full name and a time zone ICU knows. The window
 * arithmetic (inside or not, when it opens next) is the updater's (updater/src/core/window.ts).
 * Pure.
 */
import { array, custom, duration, INVALID, object, string, validate, type Schema } from '../validate.ts';
import { problemLine } from '../problems.ts';

export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';
/** Index = JavaScript's getUTCDay(). */
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface RebootWindow {
  days: readonly Weekday[];
  /** Minutes after local midnight. */
  startMinutes: number;
  lengthMs: number;
  timeZone: string;
}

const MAX_LENGTH_MS = 7 * 86_400_000;

/** True when ICU knows the IANA time zone name. */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const FULL_DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** `sat`, `Sat` or `saturday` → 'sat'; undefined for anything else. */
function dayName(text: string): Weekday | undefined {
  const lower = text.toLowerCase();
  const index = WEEKDAYS.includes(lower as Weekday) ? WEEKDAYS.indexOf(lower as Weekday) : FULL_DAY_NAMES.indexOf(lower);
  return WEEKDAYS[index];
}

const weekday = custom<Weekday>(
  `a day (${WEEKDAYS.join(', ')} or the full name)`,
  (value) => (typeof value === 'string' ? (dayName(value) ?? INVALID) : INVALID),
  (value) => typeof value === 'string',
);

const timeZone = custom<string>(
  'an IANA time zone such as "Europe/Berlin" or "UTC"',
  (value) => (isTimeZone(value) ? value : INVALID),
  (value) => typeof value === 'string',
);

const START = /([01]\d|2[0-3]):([0-5]\d)/;

/** The schema of `update.window` (lib/config toolkit): `{ days, start, length, time_zone }`. */
export const rebootWindowSchema: Schema<RebootWindow> = object({
  days: array(weekday, { minItems: 1 }),
  start: string({ pattern: START, expected: 'a local time "HH:MM" such as "02:00"' }),
  length: duration({ min: 60_000, max: MAX_LENGTH_MS }),
  time_zone: timeZone,
}).transform((w) => {
  const [, hours, minutes] = START.exec(w.start) ?? [];
  return {
    days: [...new Set(w.days)],
    startMinutes: Number(hours) * 60 + Number(minutes),
    lengthMs: w.length,
    timeZone: w.time_zone,
  };
});

/** Validates `update.window` on its own; problems are `<path>: <message>` lines. */
export function parseRebootWindow(value: unknown, path = 'update.window'): { window?: RebootWindow; problems: string[] } {
  const result = validate(rebootWindowSchema, value);
  if (!result.ok) return { problems: result.problems.map((p) => problemLine(path, p)) };
  return { window: result.value, problems: [] };
}
