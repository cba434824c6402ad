/**
 * Re-adoption against the real berth-monitor (compiled with the host's gcc), with /bin/sh in
 * place of crun and crun kill/delete, mount and probes through a fake Exec: a second
 * supervisor (a restarted init) adopts a running container with the same pid, its probes and
 * restart policy resume and its log has no gap; an exit recorded while no supervisor listened is
 * applied; a container whose config changed meanwhile is stopped and started afresh.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { createMemoryLogger, parseLogLine } from '../../../lib/log.ts';
import { createExec, createFakeExec } from '../../../lib/sys/exec.ts';
import { Container, type RuntimeSys } from '../../src/container.ts';
import type { ImageConfig } from '../../src/core/manifest.ts';
import type { LocalImages } from '../../src/images.ts';
import { createMonitorSys, type MonitorLink, type MonitorSys } from '../../src/monitor.ts';

const repoRoot = join(import.meta.dirname, '../../..');
const binDir = mkdtempSync('/tmp/berth-adopt-bin-');
t.teardown(() => rmSync(binDir, { recursive: true, force: true }));
const monitorPath = join(binDir, 'berth-monitor');
execFileSync('gcc', ['-static', '-Os', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-o', monitorPath, join(repoRoot, 'native/berth-monitor.c')], { stdio: 'inherit' });

const image: ImageConfig = {
  digest: `sha256:${'1e'.repeat(32)}`,
  os: 'linux',
  architecture: 'amd64',
  env: ['PATH=/bin'],
  entrypoint: ['/bin/app'],
  cmd: [],
  exposedPorts: [],
  volumes: [],
  labels: {},
  diffIds: [`sha256:${'40'.repeat(32)}`],
};

/** A short directory: the monitor's socket path must fit in 107 bytes. */
function shortDir(t: Test): string {
  const dir = mkdtempSync('/tmp/berth-adopt-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One "init": its own logger and Container objects over the same directories; the monitor is the real one running `script`. */
function supervisor(dir: string, script: string) {
  const logger = createMemoryLogger('runtime');
  const pids = new Map<string, number>();
  const exec = createFakeExec((call) => {
    // crun kill <id> <signal>: the "container" is the shell the monitor started.
    if (call.args.includes('kill')) {
      const pid = pids.get(call.args.at(-2) ?? '');
      if (pid !== undefined) process.kill(pid, call.args.at(-1) === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM');
    }
    return undefined;
  });
  const real = createMonitorSys(createExec(), monitorPath);
  const monitors: MonitorSys = {
    cgroup: () => Promise.resolve(undefined),
    find: async (stateDir) => {
      const link = await real.find(stateDir);
      if (link !== undefined) pids.set(stateDir.split('/').at(-2) ?? '', link.pid);
      return link;
    },
    // The crun argv after `--` becomes the test's shell script; everything before it is the runtime's.
    start: async (stateDir, args, env) => {
      const link = await real.start(stateDir, [...args.slice(0, args.indexOf('--') + 1), '/bin/sh', '-c', script], env);
      pids.set(stateDir.split('/').at(-2) ?? '', link.pid);
      return link;
    },
  };
  const sys: RuntimeSys = { exec, monitors, nowMs: () => performance.now(), now: () => new Date() };
  const images = {
    resolve: () => Promise.resolve({ manifest: { digest: 'sha256:m' }, config: image, unpackedWhilePulling: [] }),
    unpack: () => Promise.resolve({ layerDirs: [join(dir, 'layers', 'sha256-40')], unpacked: [] }),
    localConfigDigest: () => image.digest,
  } as unknown as LocalImages;
  const paths = {
    layersDir: join(dir, 'layers'),
    containersDir: join(dir, 'c'),
    bundlesDir: join(dir, 'b'),
    logDir: join(dir, 'log'),
    volumesDir: join(dir, 'v'),
    hostResolvConf: join(dir, 'resolv.conf'),
  };
  const make = (yaml: string, name: string): Container => {
    const { config } = loadMachineConfig(yaml, 'test');
    const entry = config.containers[name];
    if (entry === undefined) throw new Error(`no container ${name}`);
    return new Container(name, entry, { sys, logger, images, store: {} as never, paths, peer: () => undefined });
  };
  const events = () => logger.lines.map(parseLogLine);
  return { make, events, monitors, monitorDir: (name: string) => join(paths.bundlesDir, name, 'monitor'), logFile: (name: string) => join(paths.logDir, `${name}.log`) };
}

/** init's Node dies: its connection to the monitor goes, nothing of it reacts any more. */
function dropSupervisor(container: Container): void {
  const inside = container as unknown as { current?: MonitorLink; stopping: boolean };
  inside.current?.close();
  // Its probe timers end too, as they would with the process.
  inside.stopping = true;
}

const counting = (dir: string) => `i=0; while [ ! -e ${dir}/stop ]; do echo "n $i"; i=$((i+1)); sleep 0.05; done; exit 3`;

void t.test('a restarted supervisor adopts the running container: same pid, probes and restart policy resume, no log gap', async (t) => {
  const dir = shortDir(t);
  await mkdir(join(dir, 'layers'), { recursive: true });
  const yaml = 'containers:\n  web: { image: x, network_mode: none, restart: on-failure, healthcheck: { test: ["CMD", "ok"], interval: 50ms, retries: 1 } }\n';
  const first = supervisor(dir, counting(dir));
  const before = first.make(yaml, 'web');
  before.start();
  await until(() => before.status().state === 'running' && before.status().health === 'healthy');
  const pid = before.status().pid;
  dropSupervisor(before);

  const second = supervisor(dir, counting(dir));
  const after = second.make(yaml, 'web');
  const link = await second.monitors.find(second.monitorDir('web'));
  t.ok(link !== undefined, 'the monitor is found alive');
  if (link !== undefined) after.offerRunning(link);
  after.start();
  await until(() => second.events().some((e) => e.msg === 'Container health changed' && e.health === 'healthy'));
  t.equal(after.status().state, 'running');
  t.equal(after.status().pid, pid, 'same pid');
  t.ok(second.events().some((e) => e.msg === 'Container adopted' && e.pid === String(pid)));
  t.notOk(second.events().some((e) => e.msg === 'Container starting' || e.msg === 'Container creating'), 'not started again');

  // Lines written before, during and after the supervisor change.
  await until(async () => (await readFile(second.logFile('web'), 'utf8')).split('\n').length > 20);
  await writeFile(join(dir, 'stop'), '');
  await until(() => second.events().some((e) => e.msg === 'Container restarting'));
  t.match(second.events().find((e) => e.msg === 'Container restarting'), { exit_code: '3', restart_count: '1' }, 'the restart policy applies to the adopted run');
  await after.stop(2000);
  const numbers = (await readFile(second.logFile('web'), 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(/^n (\d+)\n$/.exec((JSON.parse(l) as { log: string }).log)?.[1]));
  t.ok(numbers.length >= 20, `${numbers.length} lines`);
  t.same(
    numbers,
    numbers.map((_, i) => i),
    'no gap in the log across the supervisor restart',
  );
});

void t.test('an exit recorded while no supervisor listened is applied; a changed config restarts the container', async (t) => {
  const dir = shortDir(t);
  await mkdir(join(dir, 'layers'), { recursive: true });
  const yaml = 'containers:\n  job: { image: x, network_mode: none, restart: "no" }\n';
  const first = supervisor(dir, counting(dir));
  const before = first.make(yaml, 'job');
  before.start();
  await until(() => before.status().state === 'running');
  dropSupervisor(before);
  await writeFile(join(dir, 'stop'), '');
  // The monitor records the exit and, with nobody connected, goes after its linger time.
  await until(async () => (await readFile(join(first.monitorDir('job'), 'exit.json'), 'utf8').catch(() => '')) !== '');
  await until(async () => (await first.monitors.find(first.monitorDir('job'))) === undefined);
  const second = supervisor(dir, counting(dir));
  const after = second.make(yaml, 'job');
  after.start();
  await until(() => after.status().state === 'exited');
  t.match(second.events().find((e) => e.msg === 'Container exited while init was down'), { exit_code: '3' });
  t.equal(after.status().exitCode, 3);
  t.notOk(second.events().some((e) => e.msg === 'Container starting'), 'restart: no — not started again');

  rmSync(join(dir, 'stop'));
  const third = supervisor(dir, counting(dir));
  const running = third.make(yaml, 'job');
  running.start();
  await until(() => running.status().state === 'running');
  const oldPid = running.status().pid;
  dropSupervisor(running);
  const fourth = supervisor(dir, counting(dir));
  const changed = fourth.make('containers:\n  job: { image: x, network_mode: none, restart: "no", environment: { MODE: "new" } }\n', 'job');
  const link = await fourth.monitors.find(fourth.monitorDir('job'));
  if (link !== undefined) changed.offerRunning(link);
  changed.start();
  await until(() => changed.status().state === 'running' && changed.status().pid !== oldPid);
  t.ok(fourth.events().some((e) => e.msg === 'Container changed while init was down, restarting it' && e.pid === String(oldPid)));
  t.ok(fourth.events().some((e) => e.msg === 'Container starting'), 'started afresh with the new config');
  await changed.stop(2000);
});
