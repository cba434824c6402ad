/**
 * Changing the machine config of a running host with `berth ctl` over the API (mutual TLS
 * through hostfwd), in one boot of the containers profile image (dir from
 * BERTH_CONTAINERS_IMAGE_DIR, default out/qemu-containers): the plan names what changes; apply
 * sets the new host name and recreates the container whose environment changed while the other
 * keeps running (same pid), and saves the config; a try that is not confirmed reverts after its
 * timeout (old host name in force, saved config unchanged); a confirmed try stays and is saved.
 * The update endpoints answer for a host without `update:` (status off, check refused with 409).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { apiConfigSection, ctlConnection, GUEST_API_PORT, makeClientKeys, runCtl as ctl } from '../harness/api-client.ts';
import { runVmCase } from '../harness/case.ts';
import { freePort } from '../../lib/sys/free-port.ts';
import { containersImageDir, loadImage } from '../../vm/src/index.ts';

const dir = t.testdir();
const keys = await makeClientKeys(dir, 'admin');

/** The machine config with a host name and web's MODE; the API, debug shell and `other` never change. */
function config(hostname: string, mode: string): string {
  return `hostname: ${hostname}
${apiConfigSection(keys.caPem)}debug:
  shell: ttyS1
containers:
  web:
    image: berth-test
    entrypoint: ["/bin/sleep", "1000"]
    network_mode: none
    environment: { MODE: ${mode} }
    stop_signal: SIGKILL
  other:
    image: berth-test
    entrypoint: ["/bin/sleep", "1000"]
    network_mode: none
    stop_signal: SIGKILL
`;
}

const port = await freePort();
const image = await loadImage(containersImageDir());

async function file(name: string, text: string): Promise<string> {
  const where = path.join(dir, name);
  await writeFile(where, text);
  return where;
}

interface ContainerRow {
  name: string;
  state: string;
  pid: number | null;
}

await runVmCase(t, 'config-apply', { boots: 1, image, config: config('cfg-1', 'a'), hostForwards: [{ protocol: 'tcp', hostPort: port, guestPort: GUEST_API_PORT }] }, async ({ machine }) => {
  const vm = await machine.boot();
  const ready = await vm.waitForReady();
  t.comment(`boot_ms=${ready.bootMs} wall_ms=${ready.wallMs}`);
  const certLine = await vm.waitFor(/msg="API server certificate" origin=\S+ sha256=([0-9a-f]{64})/, 30_000);
  await vm.waitFor(/msg="API listening" address=https:\/\/0\.0\.0\.0:7443/, 30_000);
  const base = ctlConnection(port, keys, certLine.match[1] ?? '');
  const shell = await vm.shell();
  const hostname = async (): Promise<string> => (await shell.check('cat /proc/sys/kernel/hostname')).trim();
  const saved = async (): Promise<string> => (await shell.check('sed -n 1p /var/lib/berth/config.yaml')).trim();
  const containers = async (): Promise<Record<string, ContainerRow>> => {
    const answer = await ctl([...base, 'ps', '--json']);
    if (answer.code !== 0) throw new Error(`berth ctl ps failed: ${answer.stderr}`);
    return Object.fromEntries((JSON.parse(answer.stdout) as ContainerRow[]).map((c) => [c.name, c]));
  };
  const running = async (): Promise<Record<string, ContainerRow>> => {
    for (let i = 0; i < 60; i++) {
      const rows = await containers();
      if (Object.values(rows).every((c) => c.state === 'running' && c.pid !== null)) return rows;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(`Containers not running: ${JSON.stringify(await containers())}`);
  };

  await t.test('apply: host name and one container changed without a reboot, the other untouched', async (t) => {
    const before = await running();
    const next = await file('next.yaml', config('cfg-2', 'b'));
    const plan = await ctl([...base, 'config', 'plan', next]);
    t.equal(plan.code, 0, plan.stderr);
    t.match(plan.stdout, /hostname: applied now\n\s+cfg-1 -> cfg-2/);
    t.match(plan.stdout, /web\s+recreate\s+\(changed: environment\)/);
    t.match(plan.stdout, /other\s+unchanged/);
    t.match(plan.stdout, /Everything applies without a reboot/);
    t.equal(await hostname(), 'cfg-1', 'plan changed nothing');
    t.comment(plan.stdout);

    const applied = await ctl([...base, 'config', 'apply', next]);
    t.equal(applied.code, 0, applied.stderr);
    t.match(applied.stdout, /done\s+hostname cfg-2/);
    t.match(applied.stdout, /done\s+containers recreated web/);
    t.match(applied.stdout, /Saved .*next\.yaml as the config for the next boot/);
    t.equal(await hostname(), 'cfg-2', 'the new host name is set');
    const after = await running();
    t.not(after.web?.pid, before.web?.pid, 'web runs as a new process');
    t.equal(after.other?.pid, before.other?.pid, 'other kept running untouched');
    const env = await ctl([...base, 'exec', 'web', '--', 'env']);
    t.match(env.stdout, /^MODE=b$/m, 'web has its new environment');
    t.equal(await saved(), 'hostname: cfg-2', 'saved as the last good config');
    const got = JSON.parse((await ctl([...base, 'config', 'get', '--json'])).stdout) as { origin: string; config: { hostname: string } };
    t.match(got, { origin: 'api', config: { hostname: 'cfg-2' } });
  });

  await t.test('try without confirmation: reverted after the timeout, the saved config unchanged', async (t) => {
    const trial = await file('trial.yaml', config('cfg-3', 'b'));
    const tried = await ctl([...base, 'config', 'try', trial, '--timeout', '5s']);
    t.equal(tried.code, 0, tried.stderr);
    t.match(tried.stdout, /Trying .*trial\.yaml until \S+: run 'berth ctl config confirm'/);
    t.equal(await hostname(), 'cfg-3', 'the tried host name is in force');
    t.equal(await saved(), 'hostname: cfg-2', 'the saved config stays the previous one while the try waits');
    await vm.waitFor(/msg="Config try reverted"/, 60_000);
    t.equal(await hostname(), 'cfg-2', 'the previous host name is back');
    const got = JSON.parse((await ctl([...base, 'config', 'get', '--json'])).stdout) as { config: { hostname: string } };
    t.equal(got.config.hostname, 'cfg-2', 'the previous config is in force');
    t.equal(await saved(), 'hostname: cfg-2', 'and saved');
    const late = await ctl([...base, 'config', 'confirm']);
    t.equal(late.code, 1, 'nothing left to confirm');
    t.match(late.stderr, /CONFIG_NO_TRY_PENDING/);
  });

  await t.test('try confirmed in time: stays and is saved', async (t) => {
    const trial = await file('trial2.yaml', config('cfg-4', 'b'));
    const tried = await ctl([...base, 'config', 'try', trial, '--timeout', '15s']);
    t.equal(tried.code, 0, tried.stderr);
    const confirmed = await ctl([...base, 'config', 'confirm']);
    t.equal(confirmed.code, 0, confirmed.stderr);
    t.match(confirmed.stdout, /Confirmed/);
    t.equal(await saved(), 'hostname: cfg-4', 'saved once confirmed');
    // Past the try's deadline: a confirmed try has no revert left.
    await new Promise((resolve) => setTimeout(resolve, 17_000));
    t.equal(await hostname(), 'cfg-4', 'still in force after the timeout');
    const pending = JSON.parse((await ctl([...base, 'config', 'get', '--json'])).stdout) as { config: { hostname: string } };
    t.equal(pending.config.hostname, 'cfg-4');
  });

  await t.test('update endpoints on a host without update:', async (t) => {
    const status = await ctl([...base, 'update', 'status', '--json']);
    t.equal(status.code, 0, status.stderr);
    t.match(JSON.parse(status.stdout), { configured: false, phase: 'off', booted_slot: 'a', current_version: image.manifest.version });
    const check = await ctl([...base, 'update', 'check']);
    t.equal(check.code, 1);
    t.match(check.stderr, /Updates are off.*\[UPDATE_NOT_CONFIGURED\]/);
  });
});
