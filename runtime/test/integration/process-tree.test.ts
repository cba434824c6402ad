import t from 'tap';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { killProcessTree, readParentPids, readPidFile } from '../../src/process-tree.ts';

async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && !/^\d+ \(.*\) [ZX]/s.test(stat);
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

void t.test('killProcessTree kills a detached process tree that holds a pipe, and nothing else', async (t) => {
  const dir = t.testdir();
  const pids = join(dir, 'pids');
  // A root shell with a child shell with a grandchild: the shape a probe `sh -c 'yes | ...'` leaves.
  const root = spawn('/bin/sh', ['-c', `sh -c 'yes > /dev/null & echo $! >> ${pids}; sleep 600' & echo $! >> ${pids}; sleep 600`], {
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  const bystander = spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' });
  t.teardown(() => {
    bystander.kill('SIGKILL');
  });
  const rootPid = root.pid as number;
  await waitFor(async () => (await readFile(pids, 'utf8').catch(() => '')).trim().split('\n').length === 2);
  await waitFor(async () => [...(await readParentPids()).values()].filter((ppid) => ppid === rootPid).length >= 2);
  const started = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
  const closed = new Promise<boolean>((resolve) => root.stdout.on('close', () => resolve(true)));
  root.stdout.resume();

  const killed = await killProcessTree(rootPid);
  t.ok(killed.includes(rootPid), 'the root');
  for (const pid of started) t.ok(killed.includes(pid), `descendant ${pid}`);
  t.ok(killed.length >= 5, `root, two shells' sleeps, the inner shell and yes (${killed.length})`);
  for (const pid of killed) await waitFor(async () => !(await isRunning(pid)));
  t.equal(await closed, true, 'the pipe closed: nothing holds it any more');
  t.ok(await isRunning(bystander.pid as number), 'an unrelated process is untouched');
});

void t.test('readPidFile takes a pid and refuses the rest', async (t) => {
  const dir = t.testdir({ good: '4242\n', bad: 'abc', one: '1', empty: '' });
  t.equal(await readPidFile(join(dir, 'good')), 4242);
  t.equal(await readPidFile(join(dir, 'bad')), undefined);
  t.equal(await readPidFile(join(dir, 'one')), undefined, 'never pid 1');
  t.equal(await readPidFile(join(dir, 'empty')), undefined);
  t.equal(await readPidFile(join(dir, 'missing')), undefined);
});

void t.test('killProcessTree takes several roots (crun and the pid it wrote) and kills each tree once', async (t) => {
  const a = spawn('/bin/sh', ['-c', 'sleep 600 & sleep 600'], { stdio: 'ignore' });
  const b = spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' });
  const [aPid, bPid] = [a.pid as number, b.pid as number];
  await waitFor(async () => [...(await readParentPids()).values()].filter((ppid) => ppid === aPid).length >= 2);
  const killed = await killProcessTree([aPid, bPid, aPid]);
  t.equal(new Set(killed).size, killed.length, 'no pid twice');
  t.ok(killed.includes(aPid) && killed.includes(bPid));
  t.equal(killed.length, 4, 'both roots, and the two children of the first');
  for (const pid of killed) await waitFor(async () => !(await isRunning(pid)));
});
