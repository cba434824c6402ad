import t from 'tap';
import { initScopeMemoryMax, missingControllers, parseControllers, parseMemTotal, parseProcInteger, planCgroups, servicesLimits } from '../../../src/core/cgroup-plan.ts';

void t.test('plan with every controller available', (t) => {
  const available = parseControllers('cpuset cpu io memory hugetlb pids rdma misc\n');
  t.matchSnapshot(planCgroups(available, 2), 'plan');
  t.same(missingControllers(available), []);
  t.end();
});

void t.test('controllers the kernel lacks are left out and reported', (t) => {
  const available = parseControllers('cpu memory pids');
  const plan = planCgroups(available, 7);
  t.notOk(plan.some((s) => s.kind === 'write' && s.value === '+io'));
  t.same(missingControllers(available), ['io']);
  t.same(
    plan.find((s) => s.kind === 'write' && s.path.endsWith('init.scope/cgroup.procs')),
    { kind: 'write', path: '/sys/fs/cgroup/init.scope/cgroup.procs', value: '7', optional: false },
  );
  t.end();
});

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

void t.test('berth.slice is capped below the host: memory.max and pids.max leave init its headroom', (t) => {
  const available = parseControllers('cpu io memory pids');
  const resources = { memTotalBytes: 2 * GIB, pidMax: 32_768, threadsMax: 15_700 };
  const plan = planCgroups(available, 1, resources);
  const write = (file: string): unknown => plan.find((s) => s.kind === 'write' && s.path === `/sys/fs/cgroup/berth.slice/${file}`);
  // 2 GiB: an eighth (256 MiB) stays with init; tasks: threads-max is the lower limit, an eighth of it stays.
  t.same(write('memory.max'), { kind: 'write', path: '/sys/fs/cgroup/berth.slice/memory.max', value: String(2 * GIB - 256 * MIB), optional: true });
  t.same(write('pids.max'), { kind: 'write', path: '/sys/fs/cgroup/berth.slice/pids.max', value: String(15_700 - 1962), optional: true });
  const last = plan.slice(-2).map((s) => s.path);
  t.same(last, ['/sys/fs/cgroup/berth.slice/memory.max', '/sys/fs/cgroup/berth.slice/pids.max'], 'written after the controllers are enabled in the slice');
  t.same(
    plan.find((s) => s.path === '/sys/fs/cgroup/init.scope/memory.max'),
    { kind: 'write', path: '/sys/fs/cgroup/init.scope/memory.max', value: String(448 * MIB), optional: true },
    "init's own cap: a runaway init is OOM-killed inside init.scope and restarted by berth-pid1",
  );
  t.equal(initScopeMemoryMax(512 * MIB), 256 * MIB, 'never more than half of a small host');
  t.matchSnapshot(plan, 'plan with caps');
  t.end();
});

void t.test('the headroom is clamped: at least 192 MiB / 256 tasks, at most 1 GiB / 4096, never more than half', (t) => {
  t.same(servicesLimits({ memTotalBytes: 1 * GIB, pidMax: 32_768, threadsMax: 7_800 }), { memoryMaxBytes: 1 * GIB - 192 * MIB, pidsMax: 7_800 - 975 }, '1 GiB: the 192 MiB floor');
  t.same(servicesLimits({ memTotalBytes: 64 * GIB, pidMax: 4_194_304, threadsMax: 500_000 }), { memoryMaxBytes: 63 * GIB, pidsMax: 500_000 - 4096 }, '64 GiB: the 1 GiB and 4096-task ceilings');
  t.same(servicesLimits({ memTotalBytes: 256 * MIB, pidMax: 300, threadsMax: 2000 }), { memoryMaxBytes: 128 * MIB, pidsMax: 150 }, 'tiny host: never more than half for init');
  const odd = servicesLimits({ memTotalBytes: 2_030_000 * 1024, pidMax: 32_768, threadsMax: 15_000 });
  t.equal(odd.memoryMaxBytes % MIB, 0, 'whole MiB');
  t.ok(odd.memoryMaxBytes < 2_030_000 * 1024 - 192 * MIB, 'below MemTotal minus the floor');
  t.end();
});

void t.test('without the host resources, or without the controllers, nothing is capped', (t) => {
  t.notOk(planCgroups(parseControllers('cpu io memory pids'), 1).some((s) => s.path.endsWith('.max')), 'no resources: no caps');
  const plan = planCgroups(parseControllers('cpu io'), 1, { memTotalBytes: GIB, pidMax: 32_768, threadsMax: 8000 });
  t.notOk(plan.some((s) => s.path.endsWith('.max')), 'no memory or pids controller: no caps');
  t.end();
});

void t.test('/proc figures are parsed, anything else is undefined', (t) => {
  t.equal(parseMemTotal('MemTotal:        2030412 kB\nMemFree:          123 kB\n'), 2_030_412 * 1024);
  t.equal(parseMemTotal('MemFree: 1 kB\n'), undefined);
  t.equal(parseProcInteger('32768\n'), 32_768);
  t.equal(parseProcInteger('0\n'), undefined);
  t.equal(parseProcInteger('lots'), undefined);
  t.end();
});
