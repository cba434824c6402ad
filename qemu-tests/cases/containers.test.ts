/**
 * Containers from the machine config, run by berth's engine in the booted guest, from the
 * busybox test image the image-builder preloaded (qemu-tests/profiles/containers.yaml; the
 * image dir comes from BERTH_CONTAINERS_IMAGE_DIR, default out/qemu-containers): an HTTP server
 * on the host network reached through hostfwd, a worker restarted with growing backoff, a
 * container restarted for failing its health check, one started only after another is healthy,
 * a read-only root, dropped capabilities, json-file logs, the boot judged by a critical container.
 */
import t from 'tap';
import { parseLogLine } from '../../lib/log.ts';
import { runVmCase } from '../harness/case.ts';
import { caseConfig, shellContainer, sleeperContainer, webContainer } from '../harness/machine-config.ts';
import { containersImageDir, fetchTextUntil, loadImage } from '../../vm/src/index.ts';
import { freePort } from '../../lib/sys/free-port.ts';

const CONFIG = caseConfig({
  containers: {
    web: webContainer(
      { network_mode: 'host' },
      {
        read_only: true,
        cap_drop: ['ALL'],
        healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'], interval: '1s', timeout: '3s', retries: 2 },
        'x-berth': { critical: true },
      },
    ),
    worker: shellContainer('echo worker run; exit 3', { restart: 'always' }),
    sick: sleeperContainer({
      entrypoint: ['/bin/sleep', '1000'],
      restart: 'on-failure',
      healthcheck: { test: ['CMD', 'test', '-e', '/tmp/never'], interval: '1s', timeout: '2s', retries: 2 },
    }),
    pub: webContainer({ ports: ['8081:8080'] }),
    after: shellContainer('echo started after web; exec sleep 1000', { depends_on: { web: { condition: 'service_healthy' } } }),
  },
});

const CRUN = 'crun --root /run/berth/crun';

/** How long guest state that settles after READY (a container's state, a restart) gets. */
const SETTLE_MS = 60_000;

/** runtime log lines of the console, parsed. */
function runtimeEvents(text: string): Array<Record<string, string>> {
  return text
    .split('\n')
    .filter((line) => line.includes('component=runtime'))
    .map((line) => parseLogLine(line.slice(line.indexOf('level='))));
}

const hostPort = await freePort();
const bridgePort = await freePort();
const image = await loadImage(containersImageDir());

await runVmCase(
  t,
  'containers',
  {
    boots: 1,
    image,
    config: CONFIG,
    hostForwards: [
      { protocol: 'tcp', hostPort, guestPort: 8080 },
      { protocol: 'tcp', hostPort: bridgePort, guestPort: 8081 },
    ],
  }, async ({ machine }) => {
  const vm = await machine.boot();
  const ready = await vm.waitForReady();
  t.comment(`boot_ms=${ready.bootMs}`);
  const shell = await vm.shell();

  await t.test('the preloaded image is imported and the HTTP server answers through hostfwd', async (t) => {
    const text = vm.console.text();
    t.match(text, /msg="Data partition" device=\S+ disk=\S+ plan=existing fs=ext4 grow=true/, 'init found the preloaded ext4 and grew it');
    t.match(text, /msg="Data partition step done" step=resize-fs/, 'and resized the filesystem');
    t.ok(await vm.waitFor(/msg="Preloaded image imported" preload=berth-test/, 1000).catch(() => undefined), 'preload imported');
    const state = await shell.runUntil(`${CRUN} state web`, /"status": "running"/, SETTLE_MS);
    t.match(state, /"status": "running"/, 'crun reports web running');
    const body = await fetchTextUntil(`http://127.0.0.1:${hostPort}/`, 'hello from berth', 30_000);
    t.match(body, /hello from berth/, 'GET / through hostfwd reaches busybox httpd in the container');
  });

  await t.test('pub: a published port on the bridge network reached through hostfwd', async (t) => {
    const body = await fetchTextUntil(`http://127.0.0.1:${bridgePort}/`, 'hello from berth', 60_000);
    t.match(body, /hello from berth/, 'GET / through hostfwd -> guest :8081 -> portmap -> container :8080');
  });

  await t.test('web: read-only root, no capabilities, own cgroup, oom_score_adj 0, logs', async (t) => {
    const write = await shell.run(`${CRUN} exec web /bin/sh -c 'touch /probe'`);
    t.not(write.exitCode, 0, 'writing to the read-only root fails');
    t.match(write.output, /Read-only file system/);
    const tmp = await shell.run(`${CRUN} exec web /bin/sh -c 'echo x > /dev/shm/x && echo ok'`);
    t.match(tmp.output, /ok/, '/dev/shm stays writable');
    t.match(await shell.check(`${CRUN} exec web cat /proc/self/status`), /CapEff:\s+0000000000000000/, 'cap_drop ALL leaves no effective capability');
    const pid = /"pid": (\d+)/.exec(await shell.check(`${CRUN} state web`))?.[1];
    t.ok(pid, 'web has a pid');
    t.equal((await shell.check(`cat /proc/${pid}/oom_score_adj`)).trim(), '0', 'the container process is an ordinary OOM victim (init is -1000)');
    t.match(await shell.check(`cat /proc/${pid}/cgroup`), /^0::\/berth\.slice\/web$/m, 'the container runs in berth.slice/web');
    t.match(await shell.runUntil('cat /var/log/containers/worker.log', /worker run/, SETTLE_MS), /^\{"log":"worker run\\n","stream":"stdout","time":"[^"]+"\}$/m, 'worker output in json-file format');
  });

  await t.test('worker: restarted with growing backoff', async (t) => {
    await vm.waitFor(/msg="Container restarting" container=worker exit_code=3 restart_count=6 /, 60_000);
    const restarts = runtimeEvents(vm.console.text()).filter((e) => e.container === 'worker' && e.msg === 'Container restarting');
    const delays = restarts.map((e) => Number(e.delay_ms));
    t.same(delays.slice(0, 6), [100, 200, 400, 800, 1600, 3200], 'delays double from 100 ms');
    t.same(
      restarts.slice(0, 6).map((e) => Number(e.restart_count)),
      [1, 2, 3, 4, 5, 6],
      'the restart count grows',
    );
    t.ok(await vm.waitFor(/msg="Container output" container=worker line="stdout: worker run"/, 1000).catch(() => undefined), 'the crashed container\'s last lines reach the console');
  });

  await t.test('sick: restarted for failing its health check', async (t) => {
    const m = await vm.waitFor(/msg="Container unhealthy, restarting" container=sick/, 60_000);
    t.ok(m, 'sick is found unhealthy and killed');
    await vm.waitFor(/msg="Container restarting" container=sick exit_code=137 restart_count=1 delay_ms=100 reason=unhealthy/, 30_000);
    const restarted = await vm.waitFor(/msg="Container started" container=sick pid=\d+ restart_count=1/, 30_000);
    t.match(restarted.match[0], /restart_count=1/, 'and started again');
  });

  await t.test('after: started only once web is healthy', async (t) => {
    const events = runtimeEvents(vm.console.text());
    const healthy = events.findIndex((e) => e.container === 'web' && e.msg === 'Container health changed' && e.health === 'healthy');
    const started = events.findIndex((e) => e.container === 'after' && e.msg === 'Container started');
    t.ok(healthy >= 0, 'web became healthy');
    t.ok(started > healthy, 'after started after that');
    t.match(await shell.runUntil('cat /var/log/containers/after.log', /started after web/, SETTLE_MS), /started after web/);
    t.match(await shell.check(`${CRUN} exec after cat /proc/self/status`), /CapEff:\s+00000000a80425fb/, 'a default container has Docker\'s default capability set');
  });

  await t.test('boot judged good by the critical container; containers stop at power-off', async (t) => {
    // The updater's boot gate judges after update.soak (default 120 s) from READY.
    t.ok(await vm.waitFor(/msg="Boot status" status=good/, 240_000).catch(() => undefined), 'boot status good');
    const { exit } = await vm.powerdown(60_000);
    t.comment(`exit=${JSON.stringify(exit)}`);
    t.match(vm.console.text(), /msg="Containers stopped" count=5/, 'the engine stopped every container');
  });
});
