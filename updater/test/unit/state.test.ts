import t from 'tap';
import {
  FINAL_PHASES,
  UPDATE_PHASES,
  describeUpdateState,
  initialUpdateState,
  reduceUpdate,
  type UpdateEvent,
  type UpdateState,
} from '../../src/core/state.ts';
import { errorCode, isBerthError } from '../../../lib/errors.ts';

const FROM = { slot: 'a' as const, version: '1.0.0' };

function bootOf(state: UpdateState): string {
  const c = state.current;
  return 'bootId' in c ? c.bootId : 'boot-1';
}

/** Representative events, named, for a state (boot ids follow the state). */
function sampleEvents(state: UpdateState): [string, UpdateEvent][] {
  const boot = bootOf(state);
  const next = `${boot}+1`;
  return [
    ['check-requested', { type: 'check-requested' }],
    ['check-no-update', { type: 'check-no-update', reason: 'up-to-date' }],
    ['check-found-update', { type: 'check-found-update', version: '2.0.0', bundleUrl: 'http://127.0.0.1/b/2.0.0/manifest.json', slot: 'b', from: FROM }],
    ['download-finished', { type: 'download-finished' }],
    ['stage-finished', { type: 'stage-finished', bootId: boot }],
    ['reboot-allowed', { type: 'reboot-allowed' }],
    ['health-passed', { type: 'health-passed' }],
    ['health-failed', { type: 'health-failed', reason: 'web unhealthy' }],
    ['error', { type: 'error', code: errorCode('UPDATER_HASH_MISMATCH'), message: 'hash mismatch' }],
    ['agent-started(same boot)', { type: 'agent-started', booted: { ...FROM, bootId: boot } }],
    ['agent-started(new boot, new slot)', { type: 'agent-started', booted: { slot: 'b', version: '2.0.0', bootId: next } }],
    ['agent-started(new boot, old slot)', { type: 'agent-started', booted: { ...FROM, bootId: next } }],
  ];
}

function nodeKey(state: UpdateState): string {
  const c = state.current;
  return c.phase === 'rebooting' ? `rebooting(${c.reason})` : c.phase;
}

function tryReduce(state: UpdateState, event: UpdateEvent): ReturnType<typeof reduceUpdate> | undefined {
  try {
    return reduceUpdate(state, event);
  } catch (error) {
    if (isBerthError(error, 'UPDATER_ILLEGAL_TRANSITION')) return undefined;
    throw error;
  }
}

function effectText(effects: readonly { type: string }[]): string {
  return effects.map((e) => JSON.stringify(e)).join(', ');
}

void t.test('every legal path from idle to a final phase', (t) => {
  const paths: string[] = [];
  const walk = (state: UpdateState, seen: string[], lines: string[]): void => {
    for (const [name, event] of sampleEvents(state)) {
      const result = tryReduce(state, event);
      if (!result) continue;
      const key = nodeKey(result.state);
      if (key === nodeKey(state) || seen.includes(key)) continue; // self-loops and cycles: tested below
      const line = `${nodeKey(state)} --${name}--> ${key}  [${effectText(result.effects)}]`;
      if (FINAL_PHASES.includes(result.state.current.phase)) {
        paths.push([...lines, line].join('\n'));
      } else {
        walk(result.state, [...seen, key], [...lines, line]);
      }
    }
  };
  walk(initialUpdateState(), ['idle'], []);
  t.ok(paths.length > 5);
  t.matchSnapshot(paths.map((p, i) => `path ${i + 1}:\n${p}`).join('\n\n'));
  t.end();
});

void t.test('transition table: every phase against every event', (t) => {
  // One representative state per phase, reached through legal events only.
  const states = new Map<string, UpdateState>();
  const queue = [initialUpdateState()];
  while (queue.length > 0) {
    const state = queue.shift() as UpdateState;
    if (states.has(nodeKey(state))) continue;
    states.set(nodeKey(state), state);
    for (const [, event] of sampleEvents(state)) {
      const result = tryReduce(state, event);
      if (result) queue.push(result.state);
    }
  }
  t.same([...new Set([...states.values()].map((s) => s.current.phase))].sort(), [...UPDATE_PHASES].sort(), 'every phase is reachable');
  const rows: string[] = [];
  for (const [key, state] of states) {
    for (const [name, event] of sampleEvents(state)) {
      const result = tryReduce(state, event);
      rows.push(`${key} + ${name} => ${result ? nodeKey(result.state) : 'ILLEGAL'}`);
    }
  }
  t.matchSnapshot(rows.join('\n'));
  t.end();
});

function drive(events: UpdateEvent[], from = initialUpdateState()): ReturnType<typeof reduceUpdate> {
  let result = { state: from, effects: [] } as ReturnType<typeof reduceUpdate>;
  for (const event of events) result = reduceUpdate(result.state, event);
  return result;
}

const toStaged: UpdateEvent[] = [
  { type: 'check-requested' },
  { type: 'check-found-update', version: '2.0.0', bundleUrl: 'http://x/m.json', slot: 'b', from: FROM },
  { type: 'download-finished' },
  { type: 'stage-finished', bootId: 'boot-1' },
];

void t.test('happy path ends blessed; the lock is released', (t) => {
  const r = drive([...toStaged, { type: 'reboot-allowed' }, { type: 'agent-started', booted: { slot: 'b', version: '2.0.0', bootId: 'boot-2' } }, { type: 'health-passed' }]);
  t.equal(r.state.current.phase, 'succeeded');
  t.same(r.effects.map((e) => e.type), ['bless-slot', 'release-reboot-lock', 'discard-download', 'schedule-check']);
  t.same(describeUpdateState(r.state), { phase: 'succeeded', badVersions: [], failures: 0, version: '2.0.0', slot: 'b' });
  t.end();
});

void t.test('a failed health gate condemns the slot, reboots, and records the version as bad', (t) => {
  const r1 = drive([...toStaged, { type: 'reboot-allowed' }, { type: 'agent-started', booted: { slot: 'b', version: '2.0.0', bootId: 'boot-2' } }, { type: 'health-failed', reason: 'web unhealthy' }]);
  t.same(r1.effects, [{ type: 'mark-slot-bad', slot: 'b' }, { type: 'reboot' }]);
  const r2 = reduceUpdate(r1.state, { type: 'agent-started', booted: { ...FROM, bootId: 'boot-3' } });
  t.equal(r2.state.current.phase, 'rolled-back');
  t.same(r2.state.badVersions, ['2.0.0']);
  t.match(r2.state.current, { reason: 'health-failed', detail: 'web unhealthy', bootedVersion: '1.0.0' });
  t.same(r2.effects[0], { type: 'clear-slot-entry', slot: 'b' });
  // The condemned slot came up again (rename lost in a power cut): condemn it again.
  const again = reduceUpdate(r1.state, { type: 'agent-started', booted: { slot: 'b', version: '2.0.0', bootId: 'boot-3' } });
  t.match(again.state.current, { phase: 'rebooting', reason: 'health-failed', bootId: 'boot-3' });
  t.same(again.effects.map((e) => e.type), ['mark-slot-bad', 'reboot']);
  t.end();
});

void t.test('restarts resume each phase with idempotent effects', (t) => {
  const staged = drive(toStaged).state;
  // Agent crash without reboot: keep waiting for permission.
  const same = reduceUpdate(staged, { type: 'agent-started', booted: { ...FROM, bootId: 'boot-1' } });
  t.equal(same.state, staged);
  t.same(same.effects, [{ type: 'await-reboot-permission' }]);
  // Power cut after staging: systemd-boot tries the new entry first.
  const cut = reduceUpdate(staged, { type: 'agent-started', booted: { slot: 'b', version: '2.0.0', bootId: 'boot-2' } });
  t.match(cut.state.current, { phase: 'confirming', bootId: 'boot-2' });
  // Crash during confirming: the soak starts again in the same boot.
  const soak = reduceUpdate(cut.state, { type: 'agent-started', booted: { slot: 'b', version: '2.0.0', bootId: 'boot-2' } });
  t.same(soak.effects, [{ type: 'start-health-gate', slot: 'b', version: '2.0.0' }]);
  // Hang during confirming, counter falls back to slot a.
  const hang = reduceUpdate(cut.state, { type: 'agent-started', booted: { ...FROM, bootId: 'boot-5' } });
  t.match(hang.state.current, { phase: 'rolled-back', reason: 'boot-failed' });
  // Reboot decided but not yet done when the agent crashed: reboot again.
  const rebooting = reduceUpdate(staged, { type: 'reboot-allowed' }).state;
  t.same(reduceUpdate(rebooting, { type: 'agent-started', booted: { ...FROM, bootId: 'boot-1' } }).effects, [{ type: 'reboot' }]);
  // Downloads resume; verification restarts (the plan clears the entry first).
  const downloading = drive(toStaged.slice(0, 2)).state;
  t.same(reduceUpdate(downloading, { type: 'agent-started', booted: { ...FROM, bootId: 'boot-2' } }).effects, [{ type: 'download-bundle', version: '2.0.0', bundleUrl: 'http://x/m.json' }]);
  t.end();
});

void t.test('errors fail the update with backoff and cleanup', (t) => {
  const verifying = drive(toStaged.slice(0, 3)).state;
  const r = reduceUpdate(verifying, { type: 'error', code: errorCode('UPDATER_SIGNATURE_INVALID'), message: 'bad' });
  t.same(r.effects, [{ type: 'clear-slot-entry', slot: 'b' }, { type: 'discard-download' }, { type: 'schedule-check', after: 'retry', attempt: 1 }]);
  t.same(describeUpdateState(r.state).error, { code: errorCode('UPDATER_SIGNATURE_INVALID'), message: 'bad' });
  const downloading = drive(toStaged.slice(0, 2)).state;
  const r2 = reduceUpdate(downloading, { type: 'error', code: errorCode('UPDATER_HTTP_ERROR'), message: '503', keepDownload: true });
  t.same(r2.effects, [{ type: 'schedule-check', after: 'retry', attempt: 1 }]);
  // Failures accumulate across retries and reset on a successful check.
  const r3 = drive([{ type: 'check-requested' }, { type: 'error', code: errorCode('UPDATER_TIMEOUT'), message: 't' }], r2.state);
  t.equal(r3.state.failures, 2);
  t.same(r3.effects, [{ type: 'schedule-check', after: 'retry', attempt: 2 }]);
  t.equal(drive([{ type: 'check-requested' }, { type: 'check-no-update', reason: 'up-to-date' }], r3.state).state.failures, 0);
  t.end();
});

void t.test('illegal transitions and unsafe targets are errors', (t) => {
  t.throws(() => reduceUpdate(initialUpdateState(), { type: 'health-passed' }), { code: errorCode('UPDATER_ILLEGAL_TRANSITION') });
  t.throws(() => reduceUpdate(drive(toStaged).state, { type: 'error', code: 'X', message: 'x' }), { code: errorCode('UPDATER_ILLEGAL_TRANSITION') });
  t.throws(
    () => drive([{ type: 'check-requested' }, { type: 'check-found-update', version: '2.0.0', bundleUrl: 'u', slot: 'a', from: FROM }]),
    { code: errorCode('UPDATER_SLOT_ACTIVE') },
  );
  t.end();
});

void t.test('a rolled-back version is recorded once', (t) => {
  const rb = drive([...toStaged, { type: 'agent-started', booted: { ...FROM, bootId: 'boot-9' } }]);
  t.same(rb.state.badVersions, ['2.0.0']);
  const again = drive([...toStaged, { type: 'agent-started', booted: { ...FROM, bootId: 'boot-10' } }], rb.state);
  t.same(again.state.badVersions, ['2.0.0']);
  t.end();
});

void t.test('a restart that finds the target slot running', (t) => {
  const verifying = drive(toStaged.slice(0, 3)).state;
  // Power cut after the entry was written but before stage-finished was journaled.
  const booted = reduceUpdate(verifying, { type: 'agent-started', booted: { slot: 'b', version: '2.0.0', bootId: 'boot-2' } });
  t.match(booted.state.current, { phase: 'confirming', bootId: 'boot-2' });
  // The running slot changed under the agent: never write it, never clear its entry.
  const downloading = drive(toStaged.slice(0, 2)).state;
  const moved = reduceUpdate(downloading, { type: 'agent-started', booted: { slot: 'b', version: '1.5.0', bootId: 'boot-2' } });
  t.match(moved.state.current, { phase: 'failed', error: { code: errorCode('UPDATER_SLOT_ACTIVE') } });
  t.notOk(moved.effects.some((e) => e.type === 'clear-slot-entry'));
  t.end();
});
