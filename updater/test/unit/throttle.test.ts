import t from 'tap';
import { cpuMaxLine, ioMaxLine, parseThrottle, planThrottle } from '../../src/core/throttle.ts';
import { parsePercent } from '../../../lib/config/sections/update-throttle.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyCgroupSteps, joinCgroup } from '../../src/cgroup.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('the issue example becomes the documented cgroup lines', (t) => {
  const { limits, problems } = parseThrottle({ write_bps: '5M', write_iops: 500, cpu: '20%', memory: '256M' });
  t.same(problems, []);
  t.same(limits, { writeBps: 5_242_880, writeIops: 500, cpuPercent: 20, memoryBytes: 268_435_456 });
  const steps = planThrottle({ limits: limits ?? {}, device: { major: 253, minor: 0 }, cgroupRoot: '/sys/fs/cgroup/', group: 'berth.slice/update-apply' });
  t.matchSnapshot(steps);
  t.same(steps.filter((s) => s.kind === 'write').slice(-3).map((s) => [s.path, s.kind === 'write' ? s.value : '']), [
    ['/sys/fs/cgroup/berth.slice/update-apply/io.max', '253:0 wbps=5242880 wiops=500'],
    ['/sys/fs/cgroup/berth.slice/update-apply/cpu.max', '20000 100000'],
    ['/sys/fs/cgroup/berth.slice/update-apply/memory.max', '268435456'],
  ]);
  t.end();
});

void t.test('unset limits are written as max', (t) => {
  t.equal(ioMaxLine({ major: 8, minor: 0 }, {}), '8:0 wbps=max wiops=max');
  t.equal(ioMaxLine({ major: 8, minor: 0 }, { writeIops: 100 }), '8:0 wbps=max wiops=100');
  t.equal(cpuMaxLine({}), 'max 100000');
  t.equal(cpuMaxLine({ cpuPercent: 150 }), '150000 100000');
  t.same(parseThrottle(undefined), { limits: {}, problems: [] });
  const steps = planThrottle({ limits: {}, device: { major: 8, minor: 0 }, cgroupRoot: '/sys/fs/cgroup', group: 'u' });
  t.same(steps, [
    { kind: 'write', path: '/sys/fs/cgroup/cgroup.subtree_control', value: '+cpu +io +memory' },
    { kind: 'mkdir', path: '/sys/fs/cgroup/u' },
    { kind: 'write', path: '/sys/fs/cgroup/u/io.max', value: '8:0 wbps=max wiops=max' },
    { kind: 'write', path: '/sys/fs/cgroup/u/cpu.max', value: 'max 100000' },
    { kind: 'write', path: '/sys/fs/cgroup/u/memory.max', value: 'max' },
  ]);
  t.end();
});

void t.test('throttle validation lists every problem with its path', (t) => {
  const paths = (problems: string[]): string[] => problems.map((p) => p.split(': ')[0] ?? '');
  const all = parseThrottle({ write_bps: 'fast', write_iops: 1.5, cpu: '0.5%', memory: '1M', read_bps: '1M' }).problems;
  t.same(paths(all), ['update.throttle.write_bps', 'update.throttle.write_iops', 'update.throttle.cpu', 'update.throttle.memory', 'update.throttle.read_bps']);
  t.matchSnapshot(all);
  t.same(paths(parseThrottle({ write_bps: 0, cpu: 'lots' }).problems), ['update.throttle.write_bps', 'update.throttle.cpu']);
  t.same(paths(parseThrottle({ cpu: 20 }).problems), ['update.throttle.cpu'], 'a bare number is not a percentage');
  t.same(paths(parseThrottle([1]).problems), ['update.throttle']);
  t.throws(() => planThrottle({ limits: {}, device: { major: -1, minor: 0 }, cgroupRoot: '/sys/fs/cgroup', group: 'u' }), RangeError);
  t.throws(() => planThrottle({ limits: {}, device: { major: 8, minor: 0 }, cgroupRoot: '/sys/fs/cgroup', group: '../escape' }), RangeError);
  t.end();
});

void t.test('percent parser', (t) => {
  t.same(parsePercent('20%'), { ok: true, value: 20 });
  t.same(parsePercent('12.5 %'), { ok: true, value: 12.5 });
  t.equal(parsePercent('20').ok, false);
  t.equal(parsePercent(null).ok, false);
  t.end();
});

void t.test('the plan runs against a cgroup-like directory', async (t) => {
  const root = t.testdir({ 'cgroup.subtree_control': '' });
  const limits = parseThrottle({ write_bps: '5M', write_iops: 500, cpu: '20%', memory: '256M' }).limits ?? {};
  await applyCgroupSteps(planThrottle({ limits, device: { major: 253, minor: 0 }, cgroupRoot: root, group: 'berth.slice/update-apply' }));
  const group = join(root, 'berth.slice/update-apply');
  t.equal(await readFile(join(group, 'io.max'), 'utf8'), '253:0 wbps=5242880 wiops=500');
  t.equal(await readFile(join(group, 'cpu.max'), 'utf8'), '20000 100000');
  t.equal(await readFile(join(group, 'memory.max'), 'utf8'), '268435456');
  t.equal(await readFile(join(root, 'berth.slice/cgroup.subtree_control'), 'utf8'), '+cpu +io +memory');
  await joinCgroup(group, 4242);
  t.equal(await readFile(join(group, 'cgroup.procs'), 'utf8'), '4242');
  await t.rejects(applyCgroupSteps([{ kind: 'write', path: join(root, 'missing/dir/io.max'), value: 'x' }]), { code: errorCode('UPDATER_CGROUP_FAILED') });
  await t.rejects(joinCgroup(join(root, 'nope'), 1), { code: errorCode('UPDATER_CGROUP_FAILED') });
});
