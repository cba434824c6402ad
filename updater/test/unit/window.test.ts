import t from 'tap';
import { evaluateWindow, parseRebootWindow, zonedTimeToInstant, type RebootWindow } from '../../src/core/window.ts';

function window(config: unknown): RebootWindow {
  const parsed = parseRebootWindow(config);
  if (!parsed.window) throw new Error(parsed.problems.join('; '));
  return parsed.window;
}

const at = (iso: string): Date => new Date(iso);
const iso = (d: Date): string => d.toISOString();

void t.test('local wall time to instant, across DST', (t) => {
  // Berlin: 2026-03-29 02:00 CET jumps to 03:00 CEST; 2026-10-25 03:00 CEST falls back to 02:00 CET.
  t.equal(iso(new Date(zonedTimeToInstant(2026, 3, 29, 60, 'Europe/Berlin'))), '2026-03-29T00:00:00.000Z', '01:00 CET');
  t.equal(iso(new Date(zonedTimeToInstant(2026, 3, 29, 150, 'Europe/Berlin'))), '2026-03-29T01:30:00.000Z', 'skipped 02:30 → 03:30 CEST');
  t.equal(iso(new Date(zonedTimeToInstant(2026, 3, 29, 180, 'Europe/Berlin'))), '2026-03-29T01:00:00.000Z', '03:00 CEST');
  t.equal(iso(new Date(zonedTimeToInstant(2026, 10, 25, 150, 'Europe/Berlin'))), '2026-10-25T00:30:00.000Z', 'repeated 02:30 → first (CEST)');
  t.equal(iso(new Date(zonedTimeToInstant(2026, 10, 25, 210, 'Europe/Berlin'))), '2026-10-25T02:30:00.000Z', '03:30 CET');
  // New York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
  t.equal(iso(new Date(zonedTimeToInstant(2026, 3, 8, 135, 'America/New_York'))), '2026-03-08T07:15:00.000Z', 'skipped 02:15 → 03:15 EDT');
  t.equal(iso(new Date(zonedTimeToInstant(2026, 11, 1, 90, 'America/New_York'))), '2026-11-01T05:30:00.000Z', 'repeated 01:30 → first (EDT)');
  t.equal(iso(new Date(zonedTimeToInstant(2026, 7, 1, 330, 'Asia/Kolkata'))), '2026-07-01T00:00:00.000Z', 'half-hour offset');
  t.equal(iso(new Date(zonedTimeToInstant(2026, 7, 1, 0, 'UTC'))), '2026-07-01T00:00:00.000Z');
  t.end();
});

void t.test('Europe/Berlin weekend window across spring-forward', (t) => {
  const w = window({ days: ['sat', 'sun'], start: '02:00', length: '3h', time_zone: 'Europe/Berlin' });
  t.same(evaluateWindow(w, at('2026-03-28T01:30:00Z')), { inside: true, closesAt: at('2026-03-28T04:00:00Z') }, 'Saturday 02:30 CET');
  // Sunday 02:00 does not exist: the window opens at the jump (03:00 CEST) and lasts 3 h.
  t.same(evaluateWindow(w, at('2026-03-28T12:00:00Z')), { inside: false, opensAt: at('2026-03-29T01:00:00Z'), closesAt: at('2026-03-29T04:00:00Z') });
  t.same(evaluateWindow(w, at('2026-03-29T00:59:59Z')), { inside: false, opensAt: at('2026-03-29T01:00:00Z'), closesAt: at('2026-03-29T04:00:00Z') }, '01:59:59 CET');
  t.same(evaluateWindow(w, at('2026-03-29T01:00:00Z')), { inside: true, closesAt: at('2026-03-29T04:00:00Z') }, 'opens exactly at 03:00 CEST');
  t.same(evaluateWindow(w, at('2026-03-29T04:00:00Z')), { inside: false, opensAt: at('2026-04-04T00:00:00Z'), closesAt: at('2026-04-04T03:00:00Z') }, 'closes; next Saturday 02:00 CEST');
  t.end();
});

void t.test('Europe/Berlin weekend window across fall-back', (t) => {
  const w = window({ days: ['sat', 'sun'], start: '02:00', length: '3h', time_zone: 'Europe/Berlin' });
  // Sunday 2026-10-25: 02:00 happens twice; the window opens at the first (CEST, 00:00Z).
  t.same(evaluateWindow(w, at('2026-10-24T23:59:00Z')), { inside: false, opensAt: at('2026-10-25T00:00:00Z'), closesAt: at('2026-10-25T03:00:00Z') });
  t.same(evaluateWindow(w, at('2026-10-25T01:30:00Z')), { inside: true, closesAt: at('2026-10-25T03:00:00Z') }, 'second 02:30 (CET) is inside');
  t.same(evaluateWindow(w, at('2026-10-25T03:00:00Z')), { inside: false, opensAt: at('2026-10-31T01:00:00Z'), closesAt: at('2026-10-31T04:00:00Z') }, 'next Saturday 02:00 CET');
  t.end();
});

void t.test('America/New_York windows across both transitions', (t) => {
  const w = window({ days: ['sun'], start: '01:30', length: '1h', time_zone: 'America/New_York' });
  t.same(evaluateWindow(w, at('2026-11-01T05:00:00Z')), { inside: false, opensAt: at('2026-11-01T05:30:00Z'), closesAt: at('2026-11-01T06:30:00Z') }, '01:00 EDT');
  t.same(evaluateWindow(w, at('2026-11-01T06:00:00Z')), { inside: true, closesAt: at('2026-11-01T06:30:00Z') }, '01:00 EST (second time) still inside');
  t.same(evaluateWindow(w, at('2026-11-01T06:45:00Z')), { inside: false, opensAt: at('2026-11-08T06:30:00Z'), closesAt: at('2026-11-08T07:30:00Z') }, 'second 01:45 is after the window; next week in EST');
  const spring = window({ days: ['sun'], start: '02:15', length: '2h', time_zone: 'America/New_York' });
  t.same(evaluateWindow(spring, at('2026-03-07T12:00:00Z')), { inside: false, opensAt: at('2026-03-08T07:15:00Z'), closesAt: at('2026-03-08T09:15:00Z') }, 'skipped 02:15 opens at 03:15 EDT');
  t.same(evaluateWindow(spring, at('2026-03-08T07:14:00Z')).inside, false);
  t.same(evaluateWindow(spring, at('2026-03-08T07:15:00Z')).inside, true);
  t.end();
});

void t.test('windows crossing midnight', (t) => {
  const w = window({ days: ['fri'], start: '23:00', length: '3h', time_zone: 'Europe/Berlin' });
  t.same(evaluateWindow(w, at('2026-11-27T21:59:00Z')), { inside: false, opensAt: at('2026-11-27T22:00:00Z'), closesAt: at('2026-11-28T01:00:00Z') });
  t.same(evaluateWindow(w, at('2026-11-28T00:30:00Z')), { inside: true, closesAt: at('2026-11-28T01:00:00Z') }, 'Saturday 01:30 is in Friday\'s window');
  t.same(evaluateWindow(w, at('2026-11-28T01:00:00Z')), { inside: false, opensAt: at('2026-12-04T22:00:00Z'), closesAt: at('2026-12-05T01:00:00Z') });
  // Crossing midnight and the spring-forward jump: 5 h from Sat 23:00 CET ends 05:00 CEST.
  const dst = window({ days: ['sat'], start: '23:00', length: '5h', time_zone: 'Europe/Berlin' });
  t.same(evaluateWindow(dst, at('2026-03-29T02:30:00Z')), { inside: true, closesAt: at('2026-03-29T03:00:00Z') });
  // New York, crossing midnight into the fall-back night.
  const ny = window({ days: ['sat'], start: '22:00', length: '4h', time_zone: 'America/New_York' });
  t.same(evaluateWindow(ny, at('2026-11-01T05:59:00Z')), { inside: true, closesAt: at('2026-11-01T06:00:00Z') }, 'ends 01:00 EST, after 4 elapsed hours');
  t.end();
});

void t.test('adjacent windows', (t) => {
  const workdays = window({ days: ['mon', 'tue', 'wed', 'thu', 'friday'], start: '00:00', length: '1d', time_zone: 'UTC' });
  t.same(evaluateWindow(workdays, at('2026-06-10T13:00:00Z')), { inside: true, closesAt: at('2026-06-13T00:00:00Z') }, 'touching windows form one: Wednesday until Saturday 00:00');
  t.same(evaluateWindow(workdays, at('2026-06-13T10:00:00Z')), { inside: false, opensAt: at('2026-06-15T00:00:00Z'), closesAt: at('2026-06-16T00:00:00Z') });
  t.end();
});

void t.test('window validation lists every problem with its path', (t) => {
  const paths = (problems: string[]): string[] => problems.map((p) => p.split(': ')[0] ?? '');
  const all = parseRebootWindow({ days: ['sat', 'funday'], start: '25:00', length: 'forever', time_zone: 'Mars/Olympus', extra: 1 }).problems;
  t.same(paths(all), ['update.window.days[1]', 'update.window.start', 'update.window.length', 'update.window.time_zone', 'update.window.extra']);
  t.matchSnapshot(all);
  t.same(paths(parseRebootWindow({ days: [], start: '02:00', length: '8d', time_zone: 'UTC' }).problems), ['update.window.days', 'update.window.length']);
  t.same(paths(parseRebootWindow('weekends').problems), ['update.window']);
  t.same(window({ days: ['Sat', 'saturday'], start: '02:05', length: '90m', time_zone: 'Europe/Berlin' }), { days: ['sat'], startMinutes: 125, lengthMs: 5_400_000, timeZone: 'Europe/Berlin' });
  t.end();
});
