import t from 'tap';
import { missingControllers, parseControllers, planCgroups } from '../../../src/core/cgroup-plan.ts';

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
