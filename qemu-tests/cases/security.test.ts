/**
 * Containers cannot reach berth's own state, run at OOM score adjustment 0 and under Docker's
 * seccomp allow list, in one boot of the containers profile image (dir from
 * BERTH_CONTAINERS_IMAGE_DIR, default out/qemu-containers) driven through `berth ctl` and the
 * debug shell: every spelling of berth's state or an ancestor of it as a bind source is refused
 * by `config apply` naming the container and the volume; a symlink planted in a named volume and
 * a volume directory that is a symlink are refused when the container starts; no container can
 * read the API's private key; container, exec and health-probe processes have oom_score_adj 0;
 * `unshare` fails without CAP_SYS_ADMIN (seccomp, not the kernel: it works with the capability).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ctlConnection, GUEST_API_PORT, makeClientKeys, runCtl, type CtlResult } from '../harness/api-client.ts';
import { runVmCase } from '../harness/case.ts';
import { caseConfig, sleeperContainer, TEST_IMAGE, webContainer, type ContainerConfig } from '../harness/machine-config.ts';
import { containersImageDir, loadImage } from '../../vm/src/index.ts';
import { freePort } from '../../lib/sys/free-port.ts';

const SETTLE_MS = 90_000;
/** The API's generated private key (init/src/api/tls-material.ts GENERATED_KEY_FILE). */
const API_KEY = '/var/lib/berth/api/server.key';

/** Bind spellings of berth's state and its ancestors that config validation refuses. */
const REFUSED_BINDS = ['/var//lib/berth', '/var/lib//berth/api', '/var/lib/berth/', '/var', '/var/lib', '/var/log', '/var/log/containers', '/var/log/berth'];

const work = t.testdir();
const keys = await makeClientKeys(path.join(work, 'keys'), 'admin');

/** The machine config: the API, the debug shell, and the containers given. */
function config(containers: Record<string, ContainerConfig>): string {
  return caseConfig({ hostname: 'security-test', apiCaPem: keys.caPem, containers });
}

const BASE_CONTAINERS: Record<string, ContainerConfig> = {
  web: webContainer({ network_mode: 'none' }, { healthcheck: { test: ['CMD-SHELL', 'cat /proc/self/oom_score_adj > /tmp/probe-oom'], interval: '2s' } }),
  admin: sleeperContainer({ cap_add: ['SYS_ADMIN'] }),
};

const apiPort = await freePort();
const image = await loadImage(containersImageDir());

await runVmCase(t, 'security', { boots: 1, image, config: config(BASE_CONTAINERS), hostForwards: [{ protocol: 'tcp', hostPort: apiPort, guestPort: GUEST_API_PORT }] }, async ({ machine }) => {
  const vm = await machine.boot();
  const ready = await vm.waitForReady();
  t.comment(`boot_ms=${ready.bootMs} api_port=${apiPort}`);
  const certLine = await vm.waitFor(/msg="API server certificate" origin=\S+ sha256=([0-9a-f]{64})/, 30_000);
  await vm.waitFor(/msg="API listening" address=https:\/\/0\.0\.0\.0:7443/, 30_000);
  const base = ctlConnection(apiPort, keys, certLine.match[1] ?? '');
  const ctl = (args: string[]): Promise<CtlResult> => runCtl([...base, ...args]);
  const shell = await vm.shell();
  const apply = async (name: string, text: string): Promise<CtlResult> => {
    const file = path.join(work, name);
    await writeFile(file, text);
    return ctl(['config', 'apply', file]);
  };
  const containerState = async (name: string): Promise<{ state?: string; error?: string | null }> => {
    const inspect = await ctl(['inspect', name, '--json']);
    return inspect.code === 0 ? (JSON.parse(inspect.stdout) as { state: string; error: string | null }) : {};
  };
  const waitFor = async (name: string, done: (state: { state?: string; error?: string | null }) => boolean): Promise<{ state?: string; error?: string | null }> => {
    const deadline = performance.now() + SETTLE_MS;
    let seen = await containerState(name);
    while (!done(seen) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      seen = await containerState(name);
    }
    return seen;
  };

  await t.test('the containers run', async (t) => {
    t.equal((await waitFor('web', (s) => s.state === 'running')).state, 'running', 'web');
    t.equal((await waitFor('admin', (s) => s.state === 'running')).state, 'running', 'admin');
    t.match(await shell.check(`ls -l ${API_KEY}`), /server\.key/, 'the API key exists on the host');
    t.match(vm.console.text(), /msg="Container isolation weakened" container=admin setting=cap_add\.0 reason="cap_add SYS_ADMIN: /, 'cap_add SYS_ADMIN is logged as a warning at start');
  });

  await t.test('container, exec and health-probe processes start at oom_score_adj 0, not init\'s -1000', async (t) => {
    // init's Node (the child of berth-pid1 running berth.mjs) protects itself at -1000.
    const init = await shell.check('for p in $(cat /proc/1/task/1/children); do grep -q berth.mjs /proc/$p/cmdline 2>/dev/null && cat /proc/$p/oom_score_adj; done; true');
    t.equal(init.trim().split(/\s+/)[0], '-1000', 'init keeps -1000');
    const exec = await ctl(['exec', 'web', '--', 'cat', '/proc/1/oom_score_adj', '/proc/self/oom_score_adj']);
    t.equal(exec.code, 0, exec.stderr);
    t.same(exec.stdout.trim().split(/\s+/), ['0', '0'], 'the container\'s first process and the exec\'d cat');
    const deadline = performance.now() + SETTLE_MS;
    let probe = await ctl(['exec', 'web', '--', 'cat', '/tmp/probe-oom']);
    while (probe.code !== 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      probe = await ctl(['exec', 'web', '--', 'cat', '/tmp/probe-oom']);
    }
    t.equal(probe.stdout.trim(), '0', 'what the health probe saw');
    // From the host side too: every process of the containers' cgroups.
    const adjustments = await shell.check('for p in $(cat /sys/fs/cgroup/berth.slice/web/cgroup.procs /sys/fs/cgroup/berth.slice/admin/cgroup.procs); do cat /proc/$p/oom_score_adj; done');
    const values = adjustments.trim().split(/\s+/);
    t.ok(values.length >= 2, `processes found: ${values.length}`);
    t.ok(values.every((value) => value === '0'), `all 0: ${values.join(' ')}`);
  });

  await t.test('seccomp: unshare is refused without CAP_SYS_ADMIN, allowed with it; normal work unaffected', async (t) => {
    const refused = await ctl(['exec', 'web', '--', 'unshare', '-U', 'true']);
    t.not(refused.code, 0, 'unshare -U fails in a default container');
    t.match(refused.stderr + refused.stdout, /Operation not permitted/, 'with EPERM, the profile\'s errno');
    const status = await ctl(['exec', 'web', '--', 'grep', 'Seccomp:', '/proc/self/status']);
    t.match(status.stdout, /Seccomp:\s+2/, 'a filter is installed');
    const allowed = await ctl(['exec', 'admin', '--', 'unshare', '-U', 'true']);
    t.equal(allowed.code, 0, `the same call with CAP_SYS_ADMIN: ${allowed.stderr}`);
    const work = await ctl(['exec', 'web', '--', '/bin/sh', '-c', 'echo hi > /tmp/x && cat /tmp/x && ls / >/dev/null && date >/dev/null && id -u']);
    t.equal(work.code, 0, work.stderr);
    t.match(work.stdout, /^hi\n0$/m, 'files, processes, time, users');
  });

  await t.test('no container can read the API\'s private key', async (t) => {
    for (const name of ['web', 'admin']) {
      const read = await ctl(['exec', name, '--', 'cat', API_KEY]);
      t.not(read.code, 0, `${name}: cat ${API_KEY} fails`);
      t.notMatch(read.stdout, /PRIVATE KEY/, `${name}: nothing of it`);
    }
  });

  await t.test('every spelling of berth\'s state or an ancestor of it is refused as a bind source', async (t) => {
    const evil = Object.fromEntries(REFUSED_BINDS.map((source, index) => [`evil${index}`, { image: TEST_IMAGE, network_mode: 'none', volumes: [`${source}:/x`] }]));
    const applied = await apply('binds.yaml', config({ ...BASE_CONTAINERS, ...evil }));
    t.equal(applied.code, 1, 'the config is refused');
    REFUSED_BINDS.forEach((source, index) => {
      const line = applied.stderr.split('\n').find((l) => l.includes(`containers.evil${index}.volumes[0]`));
      t.ok(line, `${source}: an error naming containers.evil${index}.volumes[0]`);
      t.match(line, /berth's own state/, `${source}: says why`);
    });
    t.comment(applied.stderr);
    t.equal((await containerState('evil0')).state, undefined, 'nothing of it applied');
  });

  await t.test('a symlink planted in a named volume, or a volume that is one, is refused at start', async (t) => {
    await shell.check('mkdir -p /var/lib/berth/volumes/planted && ln -sfn /var/lib/berth/api /var/lib/berth/volumes/planted/key && ln -sfn /var/lib/berth /var/lib/berth/volumes/evil');
    const applied = await apply(
      'planted.yaml',
      config({
        ...BASE_CONTAINERS,
        planted: { image: TEST_IMAGE, network_mode: 'none', volumes: ['/var/lib/berth/volumes/planted/key:/k'] },
        linked: { image: TEST_IMAGE, network_mode: 'none', volumes: ['data:/d', 'evil:/x'] },
      }),
    );
    t.notMatch(applied.stderr, /CONFIG_INVALID/, 'the config itself is valid');
    t.equal(applied.code, 1, 'apply reports that containers failed to start');
    t.comment(applied.stdout);
    const planted = await waitFor('planted', (s) => s.state === 'failed');
    t.equal(planted.state, 'failed', 'planted fails');
    t.match(planted.error, /RUNTIME_VOLUME_UNSAFE.*volume 0 \("\/var\/lib\/berth\/volumes\/planted\/key:\/k"\) of container planted: .* resolves to \/var\/lib\/berth\/api, which is berth's own state/);
    const linked = await waitFor('linked', (s) => s.state === 'failed');
    t.equal(linked.state, 'failed', 'linked fails');
    t.match(linked.error, /RUNTIME_VOLUME_UNSAFE.*volume 1 \("evil:\/x"\) of container linked: \/var\/lib\/berth\/volumes\/evil resolves to \/var\/lib\/berth, which is berth's own state/);
    t.equal((await containerState('web')).state, 'running', 'web untouched');
  });
});
