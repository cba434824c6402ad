/**
 * Containers survive an init restart: init's Node is killed with SIGKILL while three containers
 * run (busybox httpd on a published bridge port polled through hostfwd every 0.5 s, a worker
 * writing a numbered line every 0.2 s, a health-checked one), then made to exhaust its heap
 * (the test-only trigger). Each time berth-pid1 stays and starts init again, which adopts every
 * container from its berth-monitor: same pids, the web server answers throughout, the worker's
 * log has no gap, health checks resume, no second BERTH-READY and the boot entries stay as they were.
 */
import t from 'tap';
import { parseLogLine } from '../../lib/log.ts';
import { runVmCase } from '../harness/case.ts';
import { caseConfig, shellContainer, sleeperContainer, webContainer } from '../harness/machine-config.ts';
import { listBootEntries } from '../harness/esp.ts';
import { guestApiOk } from '../harness/guest-api.ts';
import { containersImageDir, FAILED_PATTERN, fetchTextUntil, loadImage, PANIC_PATTERN, READY_PATTERN } from '../../vm/src/index.ts';
import { freePort } from '../../lib/sys/free-port.ts';

const CONFIG = caseConfig({
  containers: {
    web: webContainer({ ports: ['8081:8080'] }),
    worker: shellContainer('i=0; while true; do echo "n $i"; i=$((i+1)); sleep 0.2; done'),
    checked: sleeperContainer({ healthcheck: { test: ['CMD', 'test', '-d', '/'], interval: '1s', timeout: '5s', retries: 2 } }),
  },
});

const NAMES = ['web', 'worker', 'checked'] as const;
const CRUN = 'crun --root /run/berth/crun';
const RESTART_TIMEOUT_MS = 240_000;

function runtimeEvents(text: string): Array<Record<string, string>> {
  return text
    .split('\n')
    .filter((line) => line.includes('component=runtime'))
    .map((line) => parseLogLine(line.slice(line.indexOf('level='))));
}

const webPort = await freePort();
const image = await loadImage(containersImageDir());

await runVmCase(t, 'survive', { boots: 1, image, config: CONFIG, hostForwards: [{ protocol: 'tcp', hostPort: webPort, guestPort: 8081 }] }, async ({ machine }) => {
  const vm = await machine.boot();
  await vm.waitForReady();
  const shell = await vm.shell();
  const failOn = [PANIC_PATTERN, FAILED_PATTERN];
  const url = `http://127.0.0.1:${webPort}/`;
  await fetchTextUntil(url, 'hello from berth', 120_000);
  await vm.waitFor(/msg="Container health changed" container=checked health=healthy/, 120_000, { failOn });

  /** The container's own process, as crun reports it. */
  const pidOf = async (name: string): Promise<number> => {
    const state = await shell.check(`${CRUN} state ${name}`);
    return Number(/"pid": (\d+)/.exec(state)?.[1]);
  };
  // One command at a time: the debug shell is a single console.
  const pidsBefore: Record<string, number> = {};
  for (const name of NAMES) pidsBefore[name] = await pidOf(name);
  const entries = await listBootEntries(shell);

  const worker = async (): Promise<number[]> =>
    (await shell.check(`sed 's/^{"log":"n \\([0-9]*\\)\\\\n","stream":"stdout",.*$/\\1/' /var/log/containers/worker.log`))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (/^\d+$/.test(l.trim()) ? Number(l.trim()) : Number.NaN));

  // Two ways init's Node dies, one after the other on the same host: a SIGKILL, then V8's heap
  // limit through the test-only trigger. The containers must not notice either.
  const rounds = [
    { what: 'SIGKILL', restarts: 1, reason: 'signal:SIGKILL', kill: (pid: number) => `kill -KILL ${pid}` },
    { what: 'heap exhaustion', restarts: 2, reason: 'heap-exhausted', kill: () => 'touch /run/berth/debug/exhaust-heap' },
  ];
  for (const round of rounds) {
    const init = JSON.parse((await guestApiOk(shell, 'GET', '/v1/status')).body) as { init: { pid: number } };
    // The web server is polled the whole time; every answer counts.
    let polls = 0;
    const failures: string[] = [];
    let isPolling = true;
    const poller = (async () => {
      while (isPolling) {
        polls += 1;
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
          const body = await response.text();
          if (!body.includes('hello from berth')) failures.push(`poll ${polls}: ${response.status} ${body.slice(0, 80)}`);
        } catch (error) {
          failures.push(`poll ${polls}: ${String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    const from = vm.console.text().length;
    await shell.check(round.kill(init.init.pid));
    await vm.waitFor(new RegExp(`BERTH-RESTARTED restarts=${round.restarts} reason=${round.reason} [^\\r\\n]*`), RESTART_TIMEOUT_MS, { from, failOn });
    await vm.waitFor(/msg="Container health changed" container=checked health=healthy/, RESTART_TIMEOUT_MS, { from, failOn });
    // A few more seconds of the worker writing and the web server answering under the new init.
    // Only the numbers cross the serial console; a record that is not a worker line shows as NaN.
    const countAtRestart = (await worker()).length;
    const deadline = performance.now() + 60_000;
    while ((await worker()).length < countAtRestart + 15 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1000));
    isPolling = false;
    await poller;
    const after = vm.console.text().slice(from);
    const events = runtimeEvents(after);

    await t.test(`${round.what}: PID 1 stays and init restarts once, without a second BERTH-READY or boot entry change`, async (t) => {
      t.ok(vm.isRunning(), 'the VM did not reboot');
      t.notOk(READY_PATTERN.test(after), 'no second BERTH-READY');
      t.equal((await shell.check('cat /proc/1/comm')).trim(), 'berth-pid1');
      t.same(await listBootEntries(shell), entries, 'boot entries unchanged');
    });

    await t.test(`${round.what}: every container is adopted with its pid and keeps running`, async (t) => {
      for (const name of NAMES) {
        t.ok(
          events.some((e) => e.msg === 'Container adopted' && e.container === name),
          `${name} adopted`,
        );
        t.equal(await pidOf(name), pidsBefore[name], `${name} keeps pid ${pidsBefore[name]}`);
        t.match(await shell.check(`${CRUN} state ${name}`), /"status": "running"/);
      }
      t.notOk(
        events.some((e) => e.msg === 'Container starting' || e.msg === 'Container restarting'),
        'nothing started again',
      );
      t.ok(
        events.some((e) => e.msg === 'Container network adopted' && e.container === 'web'),
        "web's bridge attachment is taken back",
      );
      const web = JSON.parse((await guestApiOk(shell, 'GET', '/v1/containers/web')).body) as { addresses: string[] };
      t.equal(web.addresses.length, 1, 'with its bridge address');
    });

    await t.test(`${round.what}: the web server answered throughout`, (t) => {
      t.comment(`polls=${polls}`);
      t.ok(polls > 5, 'polled while init restarted');
      t.same(failures, [], 'every poll answered');
      t.end();
    });

    await t.test(`${round.what}: the worker's log has no gap and grows after the restart`, async (t) => {
      const numbers = await worker();
      t.ok(numbers.length > countAtRestart, `${numbers.length} lines, ${countAtRestart} when init was back`);
      const first = numbers[0] ?? 0;
      t.same(
        numbers,
        numbers.map((_, i) => first + i),
        'consecutive numbers',
      );
    });

    await t.test(`${round.what}: health checks resume`, async (t) => {
      t.ok(events.some((e) => e.msg === 'Container health changed' && e.container === 'checked' && e.health === 'healthy'));
      const status = JSON.parse((await guestApiOk(shell, 'GET', '/v1/containers/checked')).body) as unknown;
      t.match(status, { state: 'running', health: 'healthy' });
    });
  }
});
