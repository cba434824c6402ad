/**
 * The supervisor with fake effects: files in a test directory, crun and mount through a fake
 * Exec, berth-monitor (`crun run` and the log) through a fake MonitorSys. Checks restart backoff, health-driven restarts,
 * depends_on ordering and stop with the stop signal.
 */
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appendFileSync } from 'node:fs';
import t from 'tap';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { parseLogLine, createMemoryLogger } from '../../../lib/log.ts';
import { createFakeExec, type RecordedCall } from '../../../lib/sys/exec.ts';
import { Container, type RuntimeSys } from '../../src/container.ts';
import { LogLineSplitter } from '../../src/core/container-log.ts';
import type { MonitorLink, RunExit } from '../../src/monitor.ts';
import type { ImageConfig } from '../../src/core/manifest.ts';
import type { LocalImages } from '../../src/images.ts';

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

interface Run {
  id: string;
  exit(code: number): void;
  /** Output of the container: json-file records in its log, as berth-monitor writes them. */
  stdout: { write(text: string): void };
}

function harness(dir: string, options: { onRun?: (run: Run, count: number) => void; probe?: (call: RecordedCall) => number } = {}) {
  const logger = createMemoryLogger('runtime');
  const runs: Run[] = [];
  const exec = createFakeExec((call) => {
    if (call.args.includes('exec')) {
      const code = options.probe?.(call) ?? 0;
      return code === 0 ? undefined : new Error(`probe exited ${code}`);
    }
    if (call.args.includes('kill')) {
      const id = call.args.at(-2);
      const run = [...runs].reverse().find((r) => r.id === id);
      run?.exit(call.args.at(-1) === 'SIGKILL' ? 137 : 143);
    }
    return undefined;
  });
  const sys: RuntimeSys = {
    exec,
    monitors: {
      cgroup: () => Promise.resolve(undefined),
      find: () => Promise.resolve(undefined),
      start(_stateDir, args): Promise<MonitorLink> {
        const logFile = args[args.indexOf('--log') + 1] ?? '';
        const splitter = new LogLineSplitter('stdout');
        let firstOutput: number | undefined;
        const firstOutputListeners: Array<(stream: 'stdout' | 'stderr', uptimeMs: number) => void> = [];
        let exit!: (code: number) => void;
        const exited = new Promise<RunExit>((resolve) => {
          let done = false;
          exit = (code) => {
            if (done) return;
            done = true;
            appendFileSync(logFile, splitter.flush(new Date(0)).join(''));
            resolve({ exitCode: code });
          };
        });
        const stdout = {
          write(text: string) {
            appendFileSync(logFile, splitter.push(Buffer.from(text), new Date(0)).join(''));
            if (firstOutput !== undefined) return;
            firstOutput = 7000 + Math.round(performance.now());
            for (const listener of firstOutputListeners.splice(0)) listener('stdout', firstOutput);
          },
        };
        const run = { id: args.at(-1) ?? '', exit, stdout };
        runs.push(run);
        queueMicrotask(() => options.onRun?.(run, runs.filter((r) => r.id === run.id).length));
        return Promise.resolve({
          pid: 1000 + runs.length,
          onFirstOutput(listener) {
            if (firstOutput !== undefined) listener('stdout', firstOutput);
            else firstOutputListeners.push(listener);
          },
          exited,
          close: () => undefined,
        });
      },
    },
    nowMs: () => performance.now(),
    now: () => new Date(0),
    uptimeMs: () => 7000 + Math.round(performance.now()),
  };
  /** What the image reference names on the host now (a test changes it as a newer pull would). */
  const localDigest = { value: image.digest };
  const images = {
    resolve: () => Promise.resolve({ manifest: { digest: 'sha256:m' }, config: { ...image, digest: localDigest.value }, unpackedWhilePulling: [] }),
    unpack: () => Promise.resolve({ layerDirs: [join(dir, 'layers', 'sha256-40')], unpacked: [] }),
    localConfigDigest: () => localDigest.value,
  } as unknown as LocalImages;
  const paths = {
    layersDir: join(dir, 'layers'),
    containersDir: join(dir, 'containers'),
    bundlesDir: join(dir, 'run'),
    logDir: join(dir, 'log'),
    volumesDir: join(dir, 'volumes'),
    hostResolvConf: join(dir, 'resolv.conf'),
  };
  const all = new Map<string, Container>();
  const make = (yaml: string): Map<string, Container> => {
    const { config } = loadMachineConfig(yaml, 'test');
    for (const [name, c] of Object.entries(config.containers)) {
      all.set(name, new Container(name, c, { sys, logger, images, store: {} as never, paths, peer: (other) => all.get(other) }));
    }
    return all;
  };
  const events = () => logger.lines.map(parseLogLine);
  return { make, events, exec, runs, logger, localDigest };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

void t.test('a failing worker is restarted with doubling delays and its output logged', async (t) => {
  const dir = t.testdir();
  await mkdir(join(dir, 'layers'), { recursive: true });
  const h = harness(dir, {
    onRun: (run) => {
      run.stdout.write('boom\n');
      run.exit(3);
    },
  });
  const containers = h.make('containers:\n  worker: { image: x, network_mode: none, restart: always }\n');
  const worker = containers.get('worker');
  worker?.start();
  await until(() => h.events().filter((e) => e.msg === 'Container restarting').length >= 4);
  await worker?.stop(1000);
  const restarts = h.events().filter((e) => e.msg === 'Container restarting');
  t.same(restarts.slice(0, 4).map((e) => e.delay_ms), ['100', '200', '400', '800']);
  t.same(restarts.slice(0, 4).map((e) => e.restart_count), ['1', '2', '3', '4']);
  t.ok(h.events().some((e) => e.msg === 'Container output' && e.line === 'stdout: boom'), 'last lines on the console');
  t.match(await readFile(join(dir, 'log', 'worker.log'), 'utf8'), /^\{"log":"boom\\n","stream":"stdout","time":"1970-01-01T00:00:00.000Z"\}$/m);
  t.equal(worker?.status().state, 'stopped');
  const spec = JSON.parse(await readFile(join(dir, 'run', 'worker', 'config.json'), 'utf8')) as { process: { oomScoreAdj: number }; root: { path: string } };
  t.equal(spec.process.oomScoreAdj, 0);
  t.equal(spec.root.path, join(dir, 'run', 'worker', 'rootfs'));
  t.ok(h.exec.calls.some((c) => c.file === '/usr/bin/mount' && c.args.includes('overlay')), 'the overlay root is mounted');
  t.ok(h.exec.calls.some((c) => c.file === '/usr/bin/umount'), 'and unmounted after stop');
});

void t.test('lifecycle lines carry t_ms (kernel-start clock) for the boot chart, first output once per run', async (t) => {
  const dir = t.testdir();
  const h = harness(dir, {
    onRun: (run, count) => {
      run.stdout.write('hello\n');
      run.stdout.write('again\n');
      setTimeout(() => run.exit(count < 2 ? 1 : 0), 20);
    },
  });
  const containers = h.make('containers:\n  once: { image: x, network_mode: none, restart: on-failure }\n');
  containers.get('once')?.start();
  await until(() => containers.get('once')?.status().state === 'exited');
  const lifecycle = h.events().filter((e) => e.container === 'once' && e.t_ms !== undefined);
  t.same(
    lifecycle.map((e) => `${e.msg}${e.restart_count === undefined ? '' : ` #${e.restart_count}`}`),
    [
      'Container creating',
      'Container created',
      'Container starting #0',
      'Container started #0',
      'Container first output #0',
      'Container restarting #1',
      'Container starting #1',
      'Container started #1',
      'Container first output #1',
      'Container exited',
    ],
  );
  // First output is the monitor's clock reading of the first byte: it may precede "Container started", never "Container starting".
  const times = lifecycle.filter((e) => e.msg !== 'Container first output').map((e) => Number(e.t_ms));
  t.ok(times.every((ms, i) => ms >= 7000 && (i === 0 || ms >= (times[i - 1] ?? 0))), `t_ms never goes back: ${times.join(' ')}`);
  const firstOutputs = lifecycle.flatMap((e, i) => (e.msg === 'Container first output' ? [[Number(e.t_ms), Number(lifecycle[i - 2]?.t_ms)]] : []));
  t.ok(firstOutputs.every(([output = 0, starting = Infinity]) => output >= starting), `first output after starting: ${JSON.stringify(firstOutputs)}`);
  t.equal(h.events().find((e) => e.msg === 'Container first output')?.stream, 'stdout');
});

void t.test('volume sources are resolved at start: a symlink onto berth\'s state is refused, others bind their real path', async (t) => {
  const dir = t.testdir();
  await mkdir(join(dir, 'layers'), { recursive: true });
  await mkdir(join(dir, 'volumes', 'real'), { recursive: true });
  // /var/log contains berth's own logs; a volume directory planted as a symlink to it must not reach crun.
  await symlink('/var/log', join(dir, 'volumes', 'evil'));
  await symlink(join(dir, 'volumes', 'real'), join(dir, 'volumes', 'alias'));
  const h = harness(dir, { onRun: (run) => run.exit(0) });
  const containers = h.make('containers:\n  bad: { image: x, network_mode: none, volumes: ["ok:/ok", "evil:/data"] }\n  good: { image: x, network_mode: none, volumes: ["alias:/data"] }\n');
  containers.get('bad')?.start();
  containers.get('good')?.start();
  await until(() => containers.get('bad')?.status().state === 'failed' && containers.get('good')?.status().state === 'exited');
  t.match(containers.get('bad')?.status().error, /^\[RUNTIME_VOLUME_UNSAFE\] Refusing volume 1 \("evil:\/data"\) of container bad: .*\/volumes\/evil resolves to \/var\/log, which contains berth's own state/);
  t.notOk(h.runs.some((r) => r.id === 'bad'), 'crun never ran it');
  const spec = JSON.parse(await readFile(join(dir, 'run', 'good', 'config.json'), 'utf8')) as { mounts: Array<{ destination: string; source: string }> };
  t.equal(spec.mounts.find((m) => m.destination === '/data')?.source, join(dir, 'volumes', 'real'), 'bound by its real path');
  t.end();
});

void t.test('on-failure:N gives up; exit 0 is not restarted', async (t) => {
  const dir = t.testdir();
  const h = harness(dir, { onRun: (run) => run.exit(run.id === 'a' ? 1 : 0) });
  const containers = h.make('containers:\n  a: { image: x, network_mode: none, restart: "on-failure:2" }\n  b: { image: x, network_mode: none, restart: on-failure }\n');
  for (const c of containers.values()) c.start();
  await until(() => [...containers.values()].every((c) => c.status().state === 'exited'));
  t.equal(containers.get('a')?.status().restartCount, 2);
  t.equal(containers.get('a')?.status().exitCode, 1);
  t.equal(containers.get('b')?.status().restartCount, 0);
});

void t.test('an unhealthy container is killed and restarted; a dependant waits for healthy', async (t) => {
  const dir = t.testdir();
  await writeFile(join(dir, 'resolv.conf'), 'nameserver 10.0.2.3\n');
  let healthyFromRun = 2;
  const h = harness(dir, {
    probe: (call) => {
      const runsOfDb = h.runs.filter((r) => r.id === 'db').length;
      return call.args.at(-1) === 'db' && runsOfDb >= healthyFromRun ? 0 : 1;
    },
  });
  const containers = h.make(`containers:
  db:
    image: x
    network_mode: none
    restart: always
    healthcheck: { test: ["CMD", "ready"], interval: 20ms, timeout: 1s, retries: 2 }
  app:
    image: x
    network_mode: none
    depends_on: { db: { condition: service_healthy } }
`);
  for (const c of containers.values()) c.start();
  await until(() => containers.get('app')?.status().state === 'running');
  const events = h.events();
  const unhealthy = events.findIndex((e) => e.container === 'db' && e.msg === 'Container unhealthy, restarting');
  const healthy = events.findIndex((e) => e.container === 'db' && e.msg === 'Container health changed' && e.health === 'healthy');
  const appStarted = events.findIndex((e) => e.container === 'app' && e.msg === 'Container started');
  t.ok(unhealthy >= 0, 'db was found unhealthy and restarted');
  t.ok(events.some((e) => e.container === 'db' && e.msg === 'Container restarting' && e.reason === 'unhealthy' && e.exit_code === '137'));
  t.ok(healthy > unhealthy && appStarted > healthy, 'app started only after db became healthy');
  healthyFromRun = Infinity;
  await Promise.all([...containers.values()].map((c) => c.stop(1000)));
  const kills = h.exec.calls.filter((c) => c.args.includes('kill')).map((c) => c.args.at(-1));
  t.ok(kills.includes('SIGTERM'), 'stop sends the stop signal');
  t.match(await readFile(join(dir, 'run', 'app', 'resolv.conf'), 'utf8'), /nameserver 10\.0\.2\.3/);
});

void t.test('resume: a stopped or exited container is supervised again; a running one is left alone', async (t) => {
  const dir = t.testdir();
  const h = harness(dir, {
    onRun: (run, count) => {
      run.stdout.write(`run ${count}\n`);
      if (run.id === 'once') run.exit(0);
    },
  });
  const containers = h.make('containers:\n  svc: { image: x, network_mode: none, stop_grace_period: 1s }\n  once: { image: x, network_mode: none, restart: "no" }\n');
  const svc = containers.get('svc');
  const once = containers.get('once');
  svc?.start();
  once?.start();
  await until(() => svc?.status().state === 'running' && once?.status().state === 'exited');
  t.equal(await svc?.resume(), false, 'running: nothing to resume');
  t.ok(svc?.details().startedAt instanceof Date, 'the start time is known');
  await svc?.stop(1000);
  t.equal(svc?.status().state, 'stopped');
  t.equal(await svc?.resume(), true, 'stopped: supervised again');
  await until(() => svc?.status().state === 'running');
  t.equal(h.runs.filter((r) => r.id === 'svc').length, 2, 'crun run a second time');
  t.equal(await once?.resume(), true, 'exited for good: run again');
  await until(() => once?.status().state === 'exited' && h.runs.filter((r) => r.id === 'once').length === 2);
  const lines: string[] = [];
  const aborter = new AbortController();
  const tail = await svc?.readLog(5, (record) => lines.push(record), aborter.signal);
  t.match(tail?.map((r) => (JSON.parse(r) as { log: string }).log), ['run 1\n', 'run 2\n'], 'the log holds both runs');
  await svc?.stop(1000);
  aborter.abort();
  t.equal(svc?.status().state, 'stopped');
});

void t.test('an exited container keeps its root and bundle for a start on request, while still right for it', async (t) => {
  const dir = t.testdir();
  await writeFile(join(dir, 'resolv.conf'), 'nameserver 10.0.2.3\n');
  const h = harness(dir, {
    onRun: (run, count) => {
      run.stdout.write(`run ${count}\n`);
      run.exit(0);
    },
  });
  const containers = h.make(
    'containers:\n  once: { image: x, network_mode: none, restart: "no" }\n  hosted: { image: x, network_mode: host, restart: "no" }\n',
  );
  const once = containers.get('once');
  const count = (file: string, name: string) => h.exec.calls.filter((c) => c.file === file && c.args.some((a) => a.includes(`/${name}/rootfs`) || a.endsWith(`/${name}`))).length;
  const runsOf = (name: string) => h.runs.filter((r) => r.id === name).length;
  const exitedAfter = (name: string, runs: number) => until(() => containers.get(name)?.status().state === 'exited' && runsOf(name) === runs);

  once?.start();
  await exitedAfter('once', 1);
  t.equal(count('/usr/bin/mount', 'once'), 1, 'the first run mounts its root');
  t.equal(count('/usr/bin/umount', 'once'), 0, 'and leaves it mounted when it exits');

  t.equal(await once?.resume(), true);
  await exitedAfter('once', 2);
  t.equal(count('/usr/bin/mount', 'once'), 1, 'a start on request runs on the kept root: no mount');
  t.ok(h.events().some((e) => e.msg === 'Container created' && e.container === 'once' && e.kept !== undefined), 'and says so');

  h.localDigest.value = `sha256:${'2e'.repeat(32)}`;
  t.equal(await once?.resume(), true);
  await exitedAfter('once', 3);
  t.equal(count('/usr/bin/umount', 'once'), 1, 'a newer image under the reference: the kept root is unmounted ...');
  t.equal(count('/usr/bin/mount', 'once'), 2, '... and prepared afresh');

  await writeFile(join(dir, 'resolv.conf'), 'nameserver 10.0.2.4\n');
  t.equal(await once?.resume(), true);
  await exitedAfter('once', 4);
  t.equal(count('/usr/bin/mount', 'once'), 3, "the host's resolv.conf changed: prepared afresh");
  t.match(await readFile(join(dir, 'run', 'once', 'resolv.conf'), 'utf8'), /10\.0\.2\.4/);

  await once?.stop(1000);
  t.equal(count('/usr/bin/umount', 'once'), 3, 'stop releases the kept root');
  await once?.stop(1000);
  t.equal(count('/usr/bin/umount', 'once'), 3, 'once');

  const hosted = containers.get('hosted');
  hosted?.start();
  await exitedAfter('hosted', 1);
  t.equal(await hosted?.resume(), true);
  await exitedAfter('hosted', 2);
  t.equal(count('/usr/bin/mount', 'hosted'), 1, 'host network: kept too');
  await hosted?.stop(1000);
  t.equal(count('/usr/bin/umount', 'hosted'), 1);
});
