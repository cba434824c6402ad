import t from 'tap';
import { renderBootEntry, type SlotBootEntry } from '../../../lib/boot-entry.ts';
import {
  detectBootOutcome,
  evaluateHealthGate,
  nextGeneration,
  planBless,
  planMarkBad,
  planStage,
  type EspEntryFile,
} from '../../src/core/slots.ts';
import { sampleManifest } from './fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const verity = { rootHash: 'ab'.repeat(32), dataBlocks: 1000, hashStartBlock: 1000, salt: 'cd'.repeat(32) };
const entryA: SlotBootEntry = { slot: 'a', version: '1.0.0', generation: 4, verity, kernelArgs: ['console=ttyS0,115200', 'panic=10'] };
const entryB: SlotBootEntry = { slot: 'b', version: '0.9.0', generation: 3, verity, kernelArgs: [] };

void t.test('staging plan: clear target entry, write, verify, ESP files, then the new entry', (t) => {
  const entries: EspEntryFile[] = [
    { name: 'berth-a.conf', text: renderBootEntry(entryA) },
    { name: 'berth-b+0-3.conf', text: renderBootEntry(entryB) },
    { name: 'other.conf', text: 'title other\n' },
  ];
  const plan = planStage({ bootedSlot: 'a', manifest: sampleManifest(), entries, kernelArgs: entryA.kernelArgs });
  t.equal(plan.slot, 'b');
  t.equal(plan.generation, 5, 'max + 1');
  t.same(plan.steps.map((s) => s.kind), ['remove-entry', 'sync-esp', 'write-root', 'verify-root', 'install-file', 'install-file', 'sync-esp', 'write-entry', 'sync-esp']);
  t.matchSnapshot(plan.steps);
  // Nothing in the plan touches the booted slot.
  t.notOk(JSON.stringify(plan.steps).includes('berth-a'), 'the running slot entry stays');
  t.notOk(JSON.stringify(plan.steps).includes('root-a'));
  t.notOk(JSON.stringify(plan.steps).includes('berth/a/'));
  t.end();
});

void t.test('staging refuses when the running slot has no bootable entry', (t) => {
  t.throws(() => planStage({ bootedSlot: 'a', manifest: sampleManifest(), entries: [{ name: 'berth-b.conf', text: renderBootEntry(entryB) }], kernelArgs: [] }), { code: errorCode('UPDATER_NO_FALLBACK_ENTRY') });
  t.throws(() => planStage({ bootedSlot: 'a', manifest: sampleManifest(), entries: [{ name: 'berth-a+0-3.conf', text: renderBootEntry(entryA) }], kernelArgs: [] }), { code: errorCode('UPDATER_NO_FALLBACK_ENTRY') });
  // First install from a fresh image: b has no entry at all.
  const plan = planStage({ bootedSlot: 'b', manifest: sampleManifest(), entries: [{ name: 'berth-b+2-1.conf', text: renderBootEntry(entryB) }], kernelArgs: [] });
  t.equal(plan.slot, 'a');
  t.equal(plan.generation, 4);
  t.equal(plan.steps[0]?.kind, 'sync-esp');
  t.equal(nextGeneration([]), 1);
  t.end();
});

void t.test('blessing removes the counter; marking bad sets 0 tries left', (t) => {
  t.same(planBless(['berth-a.conf', 'berth-b+2-1.conf'], 'b'), [{ from: 'loader/entries/berth-b+2-1.conf', to: 'loader/entries/berth-b.conf' }]);
  t.same(planBless(['berth-a.conf', 'berth-b+3.conf'], 'b'), [{ from: 'loader/entries/berth-b+3.conf', to: 'loader/entries/berth-b.conf' }]);
  t.same(planBless(['berth-b.conf'], 'b'), [], 'already blessed');
  t.throws(() => planBless(['berth-a.conf'], 'b'), { code: errorCode('UPDATER_ENTRY_AMBIGUOUS') });
  t.throws(() => planBless(['berth-b.conf', 'berth-b+1-2.conf'], 'b'), { code: errorCode('UPDATER_ENTRY_AMBIGUOUS') });
  t.same(planMarkBad(['berth-a.conf', 'berth-b+2-1.conf'], 'b'), [{ from: 'loader/entries/berth-b+2-1.conf', to: 'loader/entries/berth-b+0-1.conf' }]);
  t.same(planMarkBad(['berth-b+0-3.conf'], 'b'), [], 'already bad');
  t.same(planMarkBad(['berth-b.conf'], 'b'), [{ from: 'loader/entries/berth-b.conf', to: 'loader/entries/berth-b+0.conf' }]);
  t.end();
});

void t.test('boot outcome detection', (t) => {
  const target = { slot: 'b' as const, version: '2.0.0' };
  t.equal(detectBootOutcome(target, 'boot-1', { slot: 'a', version: '1.0.0', bootId: 'boot-1' }), 'same-boot');
  t.equal(detectBootOutcome(target, 'boot-1', { slot: 'b', version: '2.0.0', bootId: 'boot-2' }), 'booted-target');
  t.equal(detectBootOutcome(target, 'boot-1', { slot: 'a', version: '1.0.0', bootId: 'boot-2' }), 'booted-fallback');
  t.equal(detectBootOutcome(target, 'boot-1', { slot: 'b', version: '1.9.0', bootId: 'boot-2' }), 'booted-fallback', 'stale content in the slot is not the target');
  t.end();
});

void t.test('health gate: soak without interruption, fail after the timeout', (t) => {
  const opts = { soakMs: 120_000, timeoutMs: 600_000 };
  let state = { startedAt: 0 };
  const step = (now: number, initUp: boolean, unhealthy: string[] = []): ReturnType<typeof evaluateHealthGate> => {
    const r = evaluateHealthGate(state, { now, initUp, unhealthyCritical: unhealthy }, opts);
    if (r.decision === 'wait') state = r.state;
    return r;
  };
  t.equal(step(1000, false).decision, 'wait');
  t.equal(step(10_000, true).decision, 'wait');
  t.equal(step(60_000, true, ['web']).decision, 'wait', 'unhealthy resets the soak');
  t.equal(step(70_000, true).decision, 'wait');
  t.equal(step(180_000, true).decision, 'wait', '110 s healthy is not enough');
  t.same(step(190_000, true), { decision: 'bless' });
  state = { startedAt: 0 };
  t.same(step(600_000, true, ['web', 'db']), { decision: 'fail', reason: 'critical containers unhealthy: web, db' });
  state = { startedAt: 0 };
  t.same(step(700_000, false), { decision: 'fail', reason: 'init not up' });
  t.same(
    evaluateHealthGate({ startedAt: 0, healthySince: 0 }, { now: 5000, initUp: true, unhealthyCritical: ['web'], failedCritical: ['web'] }, opts),
    { decision: 'fail', reason: 'critical containers failed: web' },
    'a critical container that ended fails the gate at once, without waiting for the timeout',
  );
  t.end();
});
