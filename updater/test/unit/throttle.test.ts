import t from 'tap';
import { cpuMaxLine, ioMaxLine, parseThrottle, planThrottle } from '../../src/core/throttle.ts';
import { parseDuration, parsePercent, parseSize } from '../../src/core/units.ts';

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
  t.same(parseThrottle({ write_bps: 'fast', write_iops: 1.5, cpu: '0.5%', memory: '1M', read_bps: '1M' }).problems, [
    'update.throttle.read_bps: unknown key (expected one of write_bps, write_iops, cpu, memory)',
    'update.throttle.write_bps: expected a size such as 5M, 256M or 1G (binary units), got "fast"',
    'update.throttle.write_iops: expected a positive integer',
    'update.throttle.cpu: expected 1% to 10000% (100% = one CPU)',
    'update.throttle.memory: expected at least 16M',
  ]);
  t.same(parseThrottle({ write_bps: 0, cpu: 'lots' }).problems, ['update.throttle.write_bps: expected more than 0', 'update.throttle.cpu: expected a percentage such as 20%, got "lots"']);
  t.same(parseThrottle([1]).problems, ['update.throttle: expected { write_bps, write_iops, cpu, memory }']);
  t.throws(() => planThrottle({ limits: {}, device: { major: -1, minor: 0 }, cgroupRoot: '/sys/fs/cgroup', group: 'u' }), RangeError);
  t.throws(() => planThrottle({ limits: {}, device: { major: 8, minor: 0 }, cgroupRoot: '/sys/fs/cgroup', group: '../escape' }), RangeError);
  t.end();
});

void t.test('unit parsers', (t) => {
  t.same(parseSize('5M'), { ok: true, value: 5_242_880 });
  t.same(parseSize('1.5G'), { ok: true, value: 1_610_612_736 });
  t.same(parseSize('256MiB'), { ok: true, value: 268_435_456 });
  t.same(parseSize(4096), { ok: true, value: 4096 });
  t.equal(parseSize('5 parsecs').ok, false);
  t.equal(parseSize(-1).ok, false);
  t.same(parseDuration('1h30m'), { ok: true, value: 5_400_000 });
  t.same(parseDuration('2m'), { ok: true, value: 120_000 });
  t.same(parseDuration('250ms'), { ok: true, value: 250 });
  t.equal(parseDuration('1 hour').ok, false);
  t.equal(parseDuration(60).ok, false);
  t.same(parsePercent('20%'), { ok: true, value: 20 });
  t.equal(parsePercent('20').ok, false);
  t.end();
});
