import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import { cgroupPids, createCgroupServices } from '../../src/services.ts';
import { createFakeClock, createFakeFileSystem, createFakeProcesses } from '../../src/sys/fakes.ts';

const SLICE = '/sys/fs/cgroup/berth.slice';

void t.test('lists pids of the slice and every cgroup below it', async (t) => {
  const fs = createFakeFileSystem({
    [`${SLICE}/cgroup.procs`]: '',
    [`${SLICE}/web/cgroup.procs`]: '10\n11\n',
    [`${SLICE}/web/inner/cgroup.procs`]: '12\n',
    [`${SLICE}/db/cgroup.procs`]: '20\n',
    [`${SLICE}/cgroup.controllers`]: 'cpu',
  });
  t.same((await cgroupPids(fs, SLICE)).sort(), [10, 11, 12, 20]);
  t.same(await cgroupPids(fs, '/nonexistent'), []);
});

void t.test('services that exit on SIGTERM are not killed', async (t) => {
  const fs = createFakeFileSystem({ [`${SLICE}/cgroup.procs`]: '', [`${SLICE}/web/cgroup.procs`]: '10\n' });
  const processes = createFakeProcesses();
  const clock = createFakeClock();
  const logger = createMemoryLogger();
  const services = createCgroupServices({ fs, processes, clock }, logger);
  const original = processes.kill.bind(processes);
  processes.kill = (pid, signal) => {
    if (signal === 'SIGTERM') fs.files.set(`${SLICE}/web/cgroup.procs`, '');
    return original(pid, signal);
  };
  await services.stopAll(5000);
  t.same(processes.kills, [{ pid: 10, signal: 'SIGTERM' }]);
  t.notOk(fs.files.has(`${SLICE}/cgroup.kill`));
  t.ok(clock.nowMs < 5000);
});

void t.test('services still running after the grace period are killed through cgroup.kill', async (t) => {
  const fs = createFakeFileSystem({ [`${SLICE}/cgroup.procs`]: '', [`${SLICE}/web/cgroup.procs`]: '10\n' });
  const processes = createFakeProcesses();
  const clock = createFakeClock();
  const logger = createMemoryLogger();
  await createCgroupServices({ fs, processes, clock }, logger).stopAll(1000);
  t.equal(fs.files.get(`${SLICE}/cgroup.kill`), '1');
  t.ok(clock.nowMs >= 1000, 'the grace period was waited');
  t.ok(logger.lines.some((l) => l.includes('did not stop in time')));
});

void t.test('without cgroup.kill, remaining processes get SIGKILL', async (t) => {
  const fs = createFakeFileSystem({ [`${SLICE}/cgroup.procs`]: '7\n' });
  fs.failWrites.set(`${SLICE}/cgroup.kill`, new Error('EACCES'));
  const processes = createFakeProcesses();
  await createCgroupServices({ fs, processes, clock: createFakeClock() }, createMemoryLogger()).stopAll(200);
  t.same(processes.kills.map((k) => k.signal), ['SIGTERM', 'SIGKILL']);
});

void t.test('nothing to stop is quick and quiet', async (t) => {
  const logger = createMemoryLogger();
  const clock = createFakeClock();
  await createCgroupServices({ fs: createFakeFileSystem(), processes: createFakeProcesses(), clock }, logger).stopAll(1000);
  t.same(logger.lines, []);
  t.equal(clock.nowMs, 0);
});
