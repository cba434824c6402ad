/**
 * The boot gate (one health gate and one blessing per boot) and the slot writer's result
 * line, which carries the writer's error code across the process boundary.
 */
import t from 'tap';
import { createBootGate } from '../../src/boot-gate.ts';
import { fakeClock } from './fixtures.ts';
import { parseSlotWriteOutcome, runSlotWriter } from '../../src/slot-writer.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('the gate runs once and blesses once, whoever asks', async (t) => {
  let samples = 0;
  let blessings = 0;
  const gate = createBootGate({
    soakMs: 10_000,
    intervalMs: 1000,
    clock: fakeClock(),
    sample: () => {
      samples += 1;
      return Promise.resolve({ initUp: true, unhealthyCritical: [] });
    },
    bless: () => {
      blessings += 1;
      return Promise.resolve();
    },
  });
  const [a, b] = await Promise.all([gate.result(), gate.result()]);
  t.same(a, { passed: true });
  t.equal(a, b, 'init and the agent share one result');
  t.equal(samples, 11, 'sampled through the soak once');
  await Promise.all([gate.bless(), gate.bless()]);
  t.equal(blessings, 1);
});

void t.test('a failed critical container fails the gate at once; a failed blessing may be retried', async (t) => {
  let attempts = 0;
  const gate = createBootGate({
    soakMs: 120_000,
    clock: fakeClock(),
    sample: () => Promise.resolve({ initUp: true, unhealthyCritical: ['app'], failedCritical: ['app'] }),
    bless: () => {
      attempts += 1;
      return attempts === 1 ? Promise.reject(new Error('ESP busy')) : Promise.resolve();
    },
  });
  t.same(await gate.result(), { passed: false, reason: 'critical containers failed: app' });
  await t.rejects(gate.bless());
  await gate.bless();
  t.equal(attempts, 2);
});

void t.test('slot writer outcome line', async (t) => {
  t.same(parseSlotWriteOutcome('noise\n{"ok":true,"bytes":10,"ms":2}\n', 'exit 0'), { ok: true, bytes: 10, ms: 2 });
  t.same(parseSlotWriteOutcome('{"ok":false,"code":"UPDATER_HASH_MISMATCH","message":"m"}', 'exit 1'), { ok: false, code: errorCode('UPDATER_HASH_MISMATCH'), message: 'm' });
  t.same(parseSlotWriteOutcome('', 'signal SIGKILL'), { ok: false, code: errorCode('UPDATER_SLOT_WRITE_FAILED'), message: 'The slot writer ended without a result (signal SIGKILL)' });
  const outcome = await runSlotWriter('not json', 1);
  t.equal(outcome.ok, false);
  t.equal(!outcome.ok && outcome.code, 'UPDATER_SLOT_WRITE_FAILED', 'a garbled request is a typed failure, never a throw');
});
