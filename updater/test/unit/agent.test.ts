import t from 'tap';
import { BerthError, errorCode } from '../../../lib/errors.ts';
import { createMemoryLogger } from '../../../lib/log.ts';
import { createUpdateAgent, type JournalStore, type UpdateEffects, type UpdateAgent } from '../../src/agent.ts';
import type { UpdateEvent, UpdateState } from '../../src/core/state.ts';
import type { BootIdentity } from '../../src/core/slots.ts';

function memoryJournal(): JournalStore & { writes: string[]; current?: UpdateState } {
  const store: JournalStore & { writes: string[]; current?: UpdateState } = {
    writes: [],
    read: () => Promise.resolve(store.current === undefined ? undefined : (JSON.parse(JSON.stringify(store.current)) as UpdateState)),
    write: (state) => {
      store.current = JSON.parse(JSON.stringify(state)) as UpdateState;
      store.writes.push(state.current.phase);
      return Promise.resolve();
    },
  };
  return store;
}

const never = (signal: AbortSignal): Promise<UpdateEvent> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));

/** Fake effects that record calls; `overrides` change single effects. */
function fakeEffects(calls: string[], overrides: Partial<UpdateEffects> = {}, onReboot?: () => void, checkOnce = true): UpdateEffects {
  let checks = checkOnce ? 0 : 1;
  const record = (name: string): Promise<void> => {
    calls.push(name);
    return Promise.resolve();
  };
  return {
    waitForCheck: (after, attempt, signal) => {
      calls.push(`wait-for-check ${after} ${attempt}`);
      return checks++ === 0 ? Promise.resolve({ type: 'check-requested' }) : never(signal);
    },
    fetchChannel: () => record('fetch-channel').then(() => ({ type: 'check-found-update', version: '2.0.0', bundleUrl: 'http://s/b/2.0.0/manifest.json', slot: 'b', from: { slot: 'a', version: '1.0.0' } })),
    downloadBundle: (version) => record(`download ${version}`).then(() => ({ type: 'download-finished' })),
    verifyAndStage: (version, slot) => record(`stage ${version} into ${slot}`).then(() => ({ type: 'stage-finished', bootId: 'boot-1' })),
    clearSlotEntry: (slot) => record(`clear-entry ${slot}`),
    discardDownload: () => record('discard-download'),
    awaitRebootPermission: () => record('await-reboot-permission').then(() => ({ type: 'reboot-allowed' })),
    reboot: () => record('reboot').then(() => onReboot?.()),
    runHealthGate: (slot, version) => record(`health-gate ${slot} ${version}`).then(() => ({ type: 'health-passed' })),
    blessSlot: (slot) => record(`bless ${slot}`),
    markSlotBad: (slot) => record(`mark-bad ${slot}`),
    releaseRebootLock: () => record('release-lock'),
    ...overrides,
  };
}

async function until(agent: UpdateAgent, predicate: (s: UpdateState) => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(agent.state()); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate(agent.state())) throw new Error(`agent stuck in ${agent.state().current.phase}`);
}

async function boot(journal: JournalStore, booted: BootIdentity, calls: string[], overrides: Partial<UpdateEffects> = {}, checkOnce = true): Promise<{ agent: UpdateAgent; done: Promise<void>; logger: ReturnType<typeof createMemoryLogger> }> {
  const logger = createMemoryLogger('updater');
  // eslint-disable-next-line prefer-const
  let agent: UpdateAgent;
  const effects = fakeEffects(calls, overrides, () => agent.stop(), checkOnce);
  agent = createUpdateAgent({ effects, journal, logger, booted, replayDelayMs: 10 });
  const done = agent.run();
  return Promise.resolve({ agent, done, logger });
}

void t.test('an update from check to blessing, across the reboot', async (t) => {
  const journal = memoryJournal();
  const calls: string[] = [];
  const first = await boot(journal, { slot: 'a', version: '1.0.0', bootId: 'boot-1' }, calls);
  await first.done; // the fake reboot stops the agent
  t.same(calls, ['wait-for-check interval 0', 'fetch-channel', 'download 2.0.0', 'stage 2.0.0 into b', 'await-reboot-permission', 'reboot']);
  t.same(journal.writes, ['idle', 'checking', 'downloading', 'verifying', 'staged', 'rebooting']);
  t.match(first.logger.lines.join('\n'), /msg="Update phase" from=staged to=rebooting event=reboot-allowed version=2.0.0/);

  calls.length = 0;
  const second = await boot(journal, { slot: 'b', version: '2.0.0', bootId: 'boot-2' }, calls, {}, false);
  await until(second.agent, (s) => s.current.phase === 'succeeded');
  await new Promise((r) => setTimeout(r, 20));
  second.agent.stop();
  await second.done;
  t.same(calls, ['health-gate b 2.0.0', 'bless b', 'release-lock', 'discard-download', 'wait-for-check interval 0']);
  t.equal(journal.current?.current.phase, 'succeeded');
});

void t.test('a boot on the old slot is a rollback, recorded in the journal', async (t) => {
  const journal = memoryJournal();
  const calls: string[] = [];
  const first = await boot(journal, { slot: 'a', version: '1.0.0', bootId: 'boot-1' }, calls);
  await first.done;
  calls.length = 0;
  const second = await boot(journal, { slot: 'a', version: '1.0.0', bootId: 'boot-2' }, calls, {}, false);
  await until(second.agent, (s) => s.current.phase === 'rolled-back');
  await new Promise((r) => setTimeout(r, 20));
  second.agent.stop();
  await second.done;
  t.same(calls.slice(0, 3), ['clear-entry b', 'release-lock', 'discard-download']);
  t.same(journal.current?.badVersions, ['2.0.0']);
});

void t.test('a failing check becomes a failed update with a retry', async (t) => {
  const journal = memoryJournal();
  const calls: string[] = [];
  const { agent, done } = await boot(journal, { slot: 'a', version: '1.0.0', bootId: 'boot-1' }, calls, {
    fetchChannel: () => Promise.reject(new BerthError('UPDATER_HTTP_ERROR', 'Update server answered 503')),
  });
  await until(agent, (s) => s.current.phase === 'failed');
  await new Promise((r) => setTimeout(r, 20));
  agent.stop();
  await done;
  t.match(agent.state().current, { phase: 'failed', error: { code: errorCode('UPDATER_HTTP_ERROR') } });
  t.same(calls, ['wait-for-check interval 0', 'wait-for-check retry 1']);
});

void t.test('a failing effect after staging is replayed, not failed', async (t) => {
  const journal = memoryJournal();
  const calls: string[] = [];
  let attempts = 0;
  const { agent, done } = await boot(journal, { slot: 'a', version: '1.0.0', bootId: 'boot-1' }, calls, {
    awaitRebootPermission: () => {
      calls.push('await-reboot-permission');
      return attempts++ === 0 ? Promise.reject(new BerthError('UPDATER_FLEETLOCK_UNREACHABLE', 'lock server down')) : Promise.resolve({ type: 'reboot-allowed' });
    },
  });
  await done;
  t.same(calls.filter((c) => c === 'await-reboot-permission').length, 2);
  t.equal(agent.state().current.phase, 'rebooting');
});

void t.test('a damaged journal starts fresh; operator events are checked', async (t) => {
  const calls: string[] = [];
  const journal: JournalStore = { read: () => Promise.reject(new BerthError('UPDATER_JOURNAL_INVALID', 'bad')), write: () => Promise.resolve() };
  const { agent, done, logger } = await boot(journal, { slot: 'a', version: '1.0.0', bootId: 'boot-1' }, calls, {
    waitForCheck: (_after, _attempt, signal) => never(signal),
  });
  await until(agent, (s) => s.current.phase === 'idle');
  agent.send({ type: 'health-passed' });
  agent.send({ type: 'check-requested' });
  await until(agent, (s) => s.current.phase !== 'idle');
  agent.stop();
  await done;
  t.throws(() => agent.send({ type: 'agent-started', booted: { slot: 'a', version: '1', bootId: 'x' } }), { code: errorCode('UPDATER_ILLEGAL_TRANSITION') });
  const log = logger.lines.join('\n');
  t.match(log, /Update journal unusable/);
  t.match(log, /Update event ignored.*event=health-passed/);
});
