import t from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { rolloutPosition } from '../../src/channel.ts';
import { changeHalts, writeChannel } from '../../src/bundle.ts';
import { chooseRelease, type ChannelMetadata } from '../../src/core/release.ts';
import { placeInRollout, validateWaves, WAVE_PLANS, type Wave } from '../../src/core/rollout.ts';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey, verifyChannelMetadata } from '../../src/signing.ts';
import { errorCode } from '../../../lib/errors.ts';

const RELEASED = new Date('2026-11-20T10:00:00Z');
const HOUR = 3_600_000;

void t.test('10,000 simulated seeds land in each wave within 1% of its fraction', (t) => {
  for (const [name, plan] of Object.entries(WAVE_PLANS)) {
    const counts = plan.map(() => 0);
    for (let i = 0; i < 10_000; i++) {
      const placement = placeInRollout(plan, RELEASED, rolloutPosition(`machine-${i}`));
      counts[placement.wave - 1] = (counts[placement.wave - 1] ?? 0) + 1;
    }
    plan.forEach((wave, i) => {
      const share = (counts[i] ?? 0) / 10_000;
      t.ok(Math.abs(share - wave.fraction) <= 0.01, `${name} wave ${i + 1}: ${share} of the fleet, planned ${wave.fraction}`);
    });
  }
  t.end();
});

void t.test('hosts are spread evenly inside their wave; the last wave starts at once', (t) => {
  const plan = WAVE_PLANS.default;
  t.same(placeInRollout(plan, RELEASED, 0), { wave: 1, waves: 4, eligibleAt: RELEASED }, 'the first host of the first wave: at the release');
  // Half way through wave 1 (1 %): half way from 0 h to 4 h.
  t.same(placeInRollout(plan, RELEASED, 0.005).eligibleAt, new Date(RELEASED.getTime() + 2 * HOUR));
  // The start of wave 2 (cumulative 1 %) and half way through it (1 % + 4.5 %): 4 h + 10 h.
  t.match(placeInRollout(plan, RELEASED, 0.01), { wave: 2, eligibleAt: new Date(RELEASED.getTime() + 4 * HOUR) });
  t.match(placeInRollout(plan, RELEASED, 0.055), { wave: 2, eligibleAt: new Date(RELEASED.getTime() + 14 * HOUR) });
  t.match(placeInRollout(plan, RELEASED, 0.75), { wave: 4, eligibleAt: new Date(RELEASED.getTime() + 48 * HOUR) });
  t.match(placeInRollout(plan, RELEASED, 0.999999), { wave: 4, eligibleAt: new Date(RELEASED.getTime() + 48 * HOUR) });
  // Within a wave, eligibility grows with the position (an even spread over 10,000 hosts).
  const times = Array.from({ length: 10_000 }, (_, i) => rolloutPosition(`m-${i}`)).filter((u) => u >= 0.1 && u < 0.5).map((u) => placeInRollout(plan, RELEASED, u).eligibleAt.getTime());
  const firstHalf = times.filter((ms) => ms < RELEASED.getTime() + 36 * HOUR).length;
  t.ok(Math.abs(firstHalf / times.length - 0.5) < 0.03, `wave 3 is spread evenly from 24 h to 48 h (${firstHalf} of ${times.length} in the first half)`);
  t.equal(rolloutPosition('machine-1'), rolloutPosition('machine-1'), 'a seed always lands in the same place');
  t.end();
});

void t.test('wave plans are checked: fractions add up to 1, offsets rise', (t) => {
  for (const plan of Object.values(WAVE_PLANS)) t.same(validateWaves(plan), []);
  t.same(validateWaves([{ fraction: 0.5, after_s: 0 }, { fraction: 0.4, after_s: 60 }]), ['waves: the fractions add up to 0.9, expected 1 (every host is in one wave)']);
  t.same(validateWaves([{ fraction: 0.5, after_s: 60 }, { fraction: 0.5, after_s: 60 }]), ['waves[1].after_s: waves must start in order, each after the one before']);
  t.same(validateWaves([{ fraction: 0, after_s: -1, extra: 1 }]), ['waves[0].extra: unknown key (expected fraction, after_s)', 'waves[0].fraction: expected a share of the fleet in (0, 1]', 'waves[0].after_s: expected whole seconds after the release, 0 or more']);
  t.same(validateWaves([]), ['waves: expected a list of 1 to 20 waves { fraction, after_s }']);
  t.end();
});

const CHANNEL: ChannelMetadata = {
  channel: 'stable',
  version: '2.3.4',
  bundle_url: '../bundles/2.3.4/manifest.json',
  released: RELEASED.toISOString(),
  published: RELEASED.toISOString(),
  expires: '2026-11-23T10:00:00Z',
};

void t.test('release choice with waves: not before the host is eligible', (t) => {
  const waves: Wave[] = WAVE_PLANS.fast.map((w) => ({ ...w }));
  const base = { channel: { ...CHANNEL, waves }, runningVersion: '2.3.0', badVersions: [], allowDowngrade: false };
  // Position 0.3: wave 2 (10 %..50 %), half way from 1 h to 4 h: eligible at 2.5 h.
  t.match(chooseRelease({ ...base, rollout: { now: new Date(RELEASED.getTime() + 2 * HOUR), position: 0.3 } }), { kind: 'none', reason: 'waiting-for-wave', placement: { wave: 2, waves: 3, eligibleAt: new Date(RELEASED.getTime() + 2.5 * HOUR) } });
  t.match(chooseRelease({ ...base, rollout: { now: new Date(RELEASED.getTime() + 2.5 * HOUR), position: 0.3 } }), { kind: 'update', version: '2.3.4', placement: { wave: 2 } });
  t.match(chooseRelease({ ...base, rollout: { now: RELEASED, position: 0 } }), { kind: 'update' }, 'the first canary takes it right away');
  t.end();
});

void t.test('halts, pins and the bad-version memory combine', (t) => {
  const base = { channel: { ...CHANNEL, halted: ['2.3.4'] }, runningVersion: '2.3.0', badVersions: [] as string[], allowDowngrade: false };
  t.same(chooseRelease(base), { kind: 'none', reason: 'halted', version: '2.3.4' });
  t.same(chooseRelease({ ...base, channel: { ...CHANNEL, halted: ['2.3.3'] } }), { kind: 'update', version: '2.3.4', isDowngrade: false }, 'another version halted: no effect');
  t.same(chooseRelease({ ...base, runningVersion: '2.3.4' }), { kind: 'none', reason: 'up-to-date', version: '2.3.4' }, 'a host already on a halted release stays on it');
  t.same(chooseRelease({ ...base, badVersions: ['2.3.4'] }), { kind: 'none', reason: 'known-bad', version: '2.3.4' }, 'bad and halted: either refuses');
  t.same(chooseRelease({ ...base, pin: { pin: '2.2.x', prefix: [2, 2] } }), { kind: 'none', reason: 'pinned', version: '2.3.4' }, 'pinned and halted: either refuses');
  t.same(chooseRelease({ ...base, channel: CHANNEL, pin: { maxVersion: '2.3.4' } }), { kind: 'update', version: '2.3.4', isDowngrade: false }, 'resumed and inside the pin: taken');
  t.end();
});

void t.test('berth publish --halt and --resume re-sign the channel, keeping the release and its waves', async (t) => {
  const dir = t.testdir({});
  const pair = generateSigningKeyPair();
  const privateKey = loadPrivateKey(pair.privateKeyPem);
  const trusted = [loadPublicKey(pair.publicKeyPem)];
  const write = { toDir: dir, channel: 'stable', now: new Date('2026-11-21T10:00:00Z'), privateKey };
  await t.rejects(changeHalts(write, ['2.3.4'], []), { code: errorCode('UPDATER_PUBLISH_NO_CHANNEL') });
  await writeChannel(write, () => ({ channel: 'stable', version: '2.3.4', bundle_url: '../bundles/2.3.4/manifest.json', released: RELEASED.toISOString(), waves: [...WAVE_PLANS.fast] }));
  const path = join(dir, 'channels/stable.json');
  await changeHalts({ ...write, now: new Date('2026-11-21T11:00:00Z') }, ['2.3.4', '2.3.1'], []);
  t.match(verifyChannelMetadata(await readFile(path), trusted, 'stable'), { version: '2.3.4', released: RELEASED.toISOString(), waves: WAVE_PLANS.fast, halted: ['2.3.4', '2.3.1'], published: '2026-11-21T11:00:00.000Z' });
  await changeHalts(write, [], ['2.3.4']);
  t.match(verifyChannelMetadata(await readFile(path), trusted, 'stable'), { halted: ['2.3.1'] });
  await changeHalts(write, [], ['2.3.1']);
  t.notOk('halted' in verifyChannelMetadata(await readFile(path), trusted, 'stable'), 'no halts left: no halted list');
  // Another key's metadata is not "ours": halting refuses instead of re-signing it.
  await t.rejects(changeHalts({ ...write, privateKey: loadPrivateKey(generateSigningKeyPair().privateKeyPem) }, ['2.3.4'], []), { code: errorCode('UPDATER_PUBLISH_NO_CHANNEL') });
});
