/**
 * The semaphore's pure decisions: recursive locking, slots honoured (also when lowered), halts
 * refusing new grants only, holders expiring after silence and released by their reports.
 */
import t from 'tap';
import type { HostStatus } from '../../../lib/fleet/protocol.ts';
import { decideLock, decideUnlock, expireHolders, isHolderExpired, parseSemaphore, reportEndsHold, targetOfReport, type Holder } from '../../src/core/semaphore.ts';

const base = { slots: 2, targetVersion: '2.0', halt: undefined, nowMs: 100_000, lastSeenMs: new Map<string, number>(), holderTimeoutMs: 10_000 };
const h = (id: string, since_ms = 95_000, target_version = '2.0'): Holder => ({ id, since_ms, target_version });

void t.test('grants while slots are free, keeps a held slot without writing, refuses when full', async (t) => {
  t.same(decideLock({ ...base, holders: [], id: 'a' }), { outcome: 'granted', holders: [{ id: 'a', since_ms: 100_000, target_version: '2.0' }], expired: [] });
  t.same(decideLock({ ...base, holders: [h('a')], id: 'a' }), { outcome: 'held' });
  t.same(decideLock({ ...base, holders: [h('a'), h('b')], id: 'c' }), { outcome: 'full', holders: [h('a'), h('b')], expired: [] });
  // A Zincati host without a report has no target version.
  t.same(decideLock({ ...base, targetVersion: undefined, holders: [], id: 'z' }), { outcome: 'granted', holders: [{ id: 'z', since_ms: 100_000 }], expired: [] });
});

void t.test('a lowered slot count keeps its holders and grants nothing until enough leave', async (t) => {
  const holders = [h('a'), h('b'), h('c')];
  t.match(decideLock({ ...base, slots: 1, holders, id: 'd' }), { outcome: 'full', holders });
  t.match(decideLock({ ...base, slots: 3, holders: [h('a'), h('b')], id: 'd' }), { outcome: 'granted' });
  t.match(decideLock({ ...base, slots: 0, holders: [], id: 'd' }), { outcome: 'full' });
});

void t.test('a halted version is refused to new takers; a host already holding keeps its slot', async (t) => {
  const halt = { version: '2.0', reason: '2 hosts rolled back', by: 'policy' as const, since: '2026-12-04T21:00:00.000Z' };
  t.same(decideLock({ ...base, halt, holders: [], id: 'a' }), { outcome: 'halted', halt });
  t.same(decideLock({ ...base, halt, holders: [h('a')], id: 'a' }), { outcome: 'held' });
});

void t.test('holders expire after the timeout from their grant or last report, whichever is later', async (t) => {
  t.equal(isHolderExpired(h('a', 89_000), undefined, 100_000, 10_000), true);
  t.equal(isHolderExpired(h('a', 90_000), undefined, 100_000, 10_000), false, 'exactly at the timeout it is kept');
  t.equal(isHolderExpired(h('a', 50_000), 95_000, 100_000, 10_000), false, 'a rebooting host that reported recently is kept');
  const seen = new Map([['b', 99_000]]);
  t.same(expireHolders([h('a', 1000), h('b', 1000)], seen, 100_000, 10_000), { kept: [h('b', 1000)], expired: [h('a', 1000)] });
  // An expired holder frees its slot for the next request in the same decision.
  t.same(decideLock({ ...base, slots: 1, holders: [h('dead', 1000)], id: 'n' }), { outcome: 'granted', holders: [{ id: 'n', since_ms: 100_000, target_version: '2.0' }], expired: [h('dead', 1000)] });
});

void t.test('unlock only when held', async (t) => {
  t.same(decideUnlock([h('a'), h('b')], 'a'), [h('b')]);
  t.equal(decideUnlock([h('b')], 'a'), undefined);
});

const status = (phase: HostStatus['phase'], version: string, target_version?: string): HostStatus => ({ phase, version, slot: 'a', bad_versions: [], rollbacks: 0, ...(target_version ? { target_version } : {}) });

void t.test('reports end a hold when the reboot is over, not while it is under way', async (t) => {
  t.equal(reportEndsHold(h('a'), status('succeeded', '2.0')), true);
  t.equal(reportEndsHold(h('a'), status('idle', '2.0')), true);
  t.equal(reportEndsHold(h('a'), status('idle', '1.0')), false, 'still on the old version: not rebooted yet');
  t.equal(reportEndsHold(h('a'), status('rebooting', '1.0', '2.0')), false);
  t.equal(reportEndsHold(h('a'), status('confirming', '2.0', '2.0')), false);
  t.equal(reportEndsHold(h('a'), status('rolled-back', '1.0', '2.0')), true);
  t.equal(reportEndsHold({ id: 'z', since_ms: 0 }, status('succeeded', '2.0')), false, 'without a known target only steady-state releases');
  t.equal(targetOfReport(status('staged', '1.0', '2.0')), '2.0');
  t.equal(targetOfReport(status('rolled-back', '1.0', '2.0')), undefined);
  t.equal(targetOfReport(undefined), undefined);
});

void t.test('stored semaphores parse', async (t) => {
  t.same(parseSemaphore(undefined), { holders: [] });
  t.same(parseSemaphore('{"holders":[{"id":"a","since_ms":1}]}'), { holders: [{ id: 'a', since_ms: 1 }] });
  t.throws(() => parseSemaphore('{"x":1}'), /no holders list/);
});
