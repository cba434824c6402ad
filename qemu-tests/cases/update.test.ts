/**
 * A/B updates in a real VM (issue 4), one machine through a sequence of boots. The images
 * come from qemu-tests/build-update-images.sh (out/update/: the 1.0.0 disk, bundles of 1.0.0,
 * 2.0.0 and 3.0.0 signed with out/update/keys). An update server is a static HTTP server on
 * 127.0.0.1 serving what `berth publish` wrote, reached from the guest only through
 * guestfwd 10.0.2.100:80. Slot writes are throttled to 5 MiB/s (io.max), so a power cut can
 * land inside the write.
 *  1. 1.0.0 -> 2.0.0 with power cuts (QMP quit) during the slot write, during the ESP write
 *     and right after the reboot; every boot comes up on a good slot and the update
 *     completes: BERTH-READY slot=b version=2.0.0, the entry blessed after the soak. The
 *     slot write rate, from the writer's own timeline after io.max's first burst and over
 *     the time a write was in flight, is within 15% of io.max; write and read-back use
 *     direct I/O.
 *  2. A tampered bundle and a downgrade are refused; nothing is written to the active slot.
 *     On the same boot, unsigned and then expired channel metadata are refused and a release
 *     halted on the channel is not taken: nothing but the channel file is fetched.
 *  3. 3.0.0 fails its health gate (a critical container that refuses 3.x exits), the agent
 *     marks it bad and reboots, systemd-boot boots 2.0.0, and 3.0.0 is recorded bad and not
 *     retried.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { runVmCase } from '../harness/case.ts';
import { listBootEntries } from '../harness/esp.ts';
import { type DebugShell, loadImage, REPO_ROOT, type Vm } from '../../vm/src/index.ts';
import { startStaticServer } from '../harness/static-server.ts';
import { type ChannelMetadata, loadPrivateKey, RATE_SKIP_MS, signChannelMetadata } from '../../updater/src/index.ts';
import { errorCode } from '../../lib/errors.ts';

const run = promisify(execFile);
const UPDATE_DIR = process.env.BERTH_UPDATE_DIR ?? join(REPO_ROOT, 'out/update');
const BUNDLES = join(UPDATE_DIR, 'bundles');
const SIGNING_KEY = join(UPDATE_DIR, 'keys/berth-signing.key');
/** io.max write limit for the slot writer: 5 MiB/s. */
const WRITE_BPS = 5 * 1024 * 1024;
const BOOT_MS = 240_000;
/** Download + a ~110 MiB write at 5 MiB/s + read-back, generously for TCG. */
const STAGE_MS = 300_000;

function config(channel: string, extra = '', server = 'http://10.0.2.100/'): string {
  return `debug:
  shell: ttyS1
update:
  server: ${server}
  channel: ${channel}
  soak: 5s
  throttle: { write_bps: ${WRITE_BPS} }
${extra}`;
}

/** A critical container that refuses to run on a 3.x host (the kernel command line names the version): 3.0.0's health gate fails. */
const CRITICAL_CONTAINER = `containers:
  app:
    image: berth-test
    entrypoint: ["/bin/sh", "-c", "if grep -q 'berth.version=3[.]' /proc/cmdline; then echo 'app: host 3.x unsupported'; exit 3; fi; exec sleep 2147483647"]
    network_mode: none
    restart: "no"
    x-berth: { critical: true }
`;

async function publish(version: string, channel: string, root: string): Promise<void> {
  await run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'publish', join(BUNDLES, version), '--channel', channel, '--to', root, '--signing-key', SIGNING_KEY], { cwd: REPO_ROOT });
}

async function journal(shell: DebugShell): Promise<{ state: { current: { phase: string; error?: { code: string } }; badVersions: string[] } }> {
  return JSON.parse(await shell.check('cat /var/lib/berth/update-journal.json')) as never;
}

/** GET /v1/update through the API's Unix socket, asked by the guest's own node (the image has no curl). */
async function apiUpdateStatus(shell: DebugShell): Promise<Record<string, unknown>> {
  const script = `require('http').get({socketPath:'/run/berth/api.sock',path:'/v1/update'},(r)=>{let b='';r.on('data',(c)=>b+=c);r.on('end',()=>console.log(b))})`;
  return JSON.parse(await shell.check(`/usr/lib/berth/node/bin/node -e "${script}"`)) as Record<string, unknown>;
}

const updateLine = (phase: string): RegExp => new RegExp(`msg="Update phase" from=\\S+ to=${phase}\\b`);

for (const version of ['1.0.0', '2.0.0', '3.0.0']) {
  try {
    await access(join(BUNDLES, version, 'manifest.json'));
  } catch {
    throw new Error(`The update test needs the bundles in ${BUNDLES}: run qemu-tests/build-update-images.sh first`);
  }
}
const image = await loadImage(join(UPDATE_DIR, 'qemu-update'));
const root = join(UPDATE_DIR, 'server');
await rm(root, { recursive: true, force: true });
await mkdir(root, { recursive: true });
const server = await startStaticServer(root);
t.teardown(() => server.close());

await runVmCase(
  t,
  'update',
  { boots: 14, image, config: config('stable'), guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 80, hostPort: server.port, mode: 'process' }] },
  async ({ machine }) => {
    const boot = async (): Promise<Vm> => machine.boot();
    const cut = async (vm: Vm): Promise<void> => {
      await vm.qmp.quit();
      await vm.waitForExit(30_000);
    };

    await t.test('1.0.0 -> 2.0.0 through power cuts in the slot write, the ESP write and right after the reboot', async (t) => {
      await publish('2.0.0', 'stable', root);
      let vm = await boot();
      let ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['a', '1.0.0'], 'boots 1.0.0 from slot a');
      await vm.waitFor(/msg="Boot entry blessed" slot=a/, 60_000);
      await vm.waitFor(/msg="Slot write starting" slot=b/, STAGE_MS);
      await new Promise((done) => setTimeout(done, 3000));
      await cut(vm);
      t.notOk(vm.isRunning(), 'power cut during the slot write: QEMU is gone');

      vm = await boot();
      ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['a', '1.0.0'], 'after the cut in the slot write: slot a');
      const written = await vm.waitFor(/msg="Slot written" slot=b bytes=(\d+) ms=(\d+) bytes_per_s=(\d+) steady_bytes_per_s=(\d+) steady_ms=(\d+) starved_ms=(\d+) direct=(\w+)/, STAGE_MS);
      const [, bytes, ms, overall, steady, steadyMs, starvedMs, direct] = written.match.map(String);
      const rate = Number(steady);
      t.comment(
        `slot write: ${bytes} bytes in ${ms} ms (${(Number(overall) / 1048576).toFixed(2)} MiB/s overall); steady ${(rate / 1048576).toFixed(2)} MiB/s over ${steadyMs} ms ` +
          `after the first ${RATE_SKIP_MS} ms, ${starvedMs} ms without a write in flight excluded (io.max ${WRITE_BPS / 1048576} MiB/s)`,
      );
      t.equal(direct, 'true', 'the slot is written with direct I/O (no page-cache writeback outside the cgroup)');
      // The writer's own timeline: io.max's first burst and any time its decompressor left the device idle are not the throttle's rate.
      t.ok(Number(steadyMs) >= 5000, `the rate window is long enough to mean something (${steadyMs} ms)`);
      t.ok(Math.abs(rate - WRITE_BPS) / WRITE_BPS <= 0.15, `the steady write rate ${rate} B/s is within 15% of io.max ${WRITE_BPS} B/s`);
      const verified = await vm.waitFor(/msg="Slot verified" slot=b bytes=(\d+) ms=\d+ direct=(\w+)/, STAGE_MS);
      t.equal(verified.match[2], 'true', 'the read-back bypasses the page cache');
      await vm.waitFor(/msg="Stage step" step=install-file/, STAGE_MS);
      await cut(vm);
      t.notOk(vm.isRunning(), 'power cut during the ESP write: QEMU is gone');

      vm = await boot();
      ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['a', '1.0.0'], 'after the cut in the ESP write: slot a');
      await vm.waitFor(/msg="Rebooting for the update"/, STAGE_MS);
      await vm.waitForExit(120_000);
      t.notOk(vm.isRunning(), 'rebooted into the update (QEMU ended with the guest reboot)');

      vm = await boot();
      await vm.waitFor(/msg="Boot identity" slot=b version=2\.0\.0/, BOOT_MS);
      await cut(vm);
      t.notOk(vm.isRunning(), 'power cut right after the reboot: QEMU is gone');

      vm = await boot();
      ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['b', '2.0.0'], 'BERTH-READY slot=b version=2.0.0');
      await vm.waitFor(/msg="Boot entry blessed" slot=b/, 120_000);
      await vm.waitFor(updateLine('succeeded'), 60_000);
      const after = await listBootEntries(await vm.shell());
      t.ok(after.includes('berth-b.conf'), `slot b's entry is blessed (${after.join(' ')})`);
      // After succeeded the agent goes on checking (and finds 2.0.0 current).
      t.match((await journal(await vm.shell())).state.current.phase, /^(succeeded|checking|idle)$/, 'the journal is past the update');
      await vm.powerdown();
    });

    await t.test('a tampered bundle and a downgrade are refused, nothing written to the active slot', async (t) => {
      // Tampered: 3.0.0 published (signed channel) on a server of its own, whose manifest then has one field changed.
      const tamperedRoot = join(root, 'tampered');
      await publish('3.0.0', 'tampered', tamperedRoot);
      const manifestPath = join(tamperedRoot, 'bundles', '3.0.0', 'manifest.json');
      const manifest = await readFile(manifestPath, 'utf8');
      const changed = manifest.replace(/"min_version":\s*"0\.0\.0"/, '"min_version":"0.0.1"');
      t.not(changed, manifest, 'the manifest was changed');
      await writeFile(manifestPath, changed);
      await publish('1.0.0', 'old', root);

      await writeFile(machine.paths.configFile, config('tampered', '', 'http://10.0.2.100/tampered/'));
      let vm = await boot();
      let ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['b', '2.0.0']);
      const shell = await vm.shell();
      const activeBefore = await shell.check('sha256sum /dev/vda3');
      const refused = await vm.waitFor(/msg="Update phase" from=\S+ to=failed[^\n]*/, STAGE_MS);
      t.comment(refused.match[0]);
      t.match(refused.match[0], /code=UPDATER_SIGNATURE_INVALID/, 'the tampered manifest fails its signature');
      // Hashing the active slot above takes a while under TCG: retries (15-30 s after a failure,
      // then longer) may have run since, each failing the same way and counted.
      const failed = await journal(shell);
      if (failed.state.current.phase === 'failed') t.equal(failed.state.current.error?.code, 'UPDATER_SIGNATURE_INVALID', 'the journal holds the failure');
      else t.match(failed.state.current.phase, /^(checking|downloading)$/, 'or a retry under way');
      const status = await apiUpdateStatus(shell);
      t.match(status, { configured: true, booted_slot: 'b', current_version: '2.0.0' }, 'GET /v1/update: the running version');
      t.ok(typeof status.failures === 'number' && status.failures >= 1, `GET /v1/update counts the failures (${String(status.failures)})`);
      if (status.phase === 'failed') t.match(status.last_error, { code: errorCode('UPDATER_SIGNATURE_INVALID') }, 'GET /v1/update shows the failure');
      else t.match(status.phase, /^(checking|downloading)$/, 'or the retry under way');
      t.notMatch(vm.console.text(), /msg="Update phase" from=downloading to=verifying/, 'no attempt got past the signature');
      t.equal(await shell.check('sha256sum /dev/vda3'), activeBefore, 'the active slot is unchanged');
      await vm.powerdown();

      await writeFile(machine.paths.configFile, config('old'));
      vm = await boot();
      ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['b', '2.0.0']);
      const refusal = await vm.waitFor(/msg="Update phase" from=checking to=idle[^\n]*/, 120_000);
      t.match(refusal.match[0], /reason="?downgrade-refused/, 'the downgrade to 1.0.0 is refused');
      t.notMatch(vm.console.text(), /msg="Stage step"/, 'nothing staged');
      t.same(await listBootEntries(await vm.shell()), ['berth-a.conf', 'berth-b.conf'], 'entries untouched');

      // The same host, channel metadata that must be refused: unsigned, then expired (the retry
      // after a failed check fetches it again), then a halted 3.0.0. Nothing but channel files is fetched.
      const oldChannel = join(root, 'channels', 'old.json');
      const signed = JSON.parse((JSON.parse(await readFile(oldChannel, 'utf8')) as { signed: string }).signed) as ChannelMetadata;
      const replaceChannel = async (text: string): Promise<void> => {
        await writeFile(`${oldChannel}.new`, text);
        await rename(`${oldChannel}.new`, oldChannel);
      };
      // 3.0.0 halted on the channel from the start (published elsewhere, moved in later in one rename).
      const staging = join(UPDATE_DIR, 'server-staging');
      await rm(staging, { recursive: true, force: true });
      await publish('3.0.0', 'old', staging);
      await run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'publish', '--halt', '3.0.0', '--channel', 'old', '--to', staging, '--signing-key', SIGNING_KEY], { cwd: REPO_ROOT });
      const fetchedFrom = server.requests.length;
      await replaceChannel(JSON.stringify({ format: 1, ...signed }));
      await (await vm.shell()).check(`/usr/lib/berth/node/bin/node -e "require('http').request({socketPath:'/run/berth/api.sock',path:'/v1/update/check',method:'POST'},(r)=>r.resume()).end()"`);
      const unsigned = await vm.waitFor(/msg="Update phase" from=checking to=failed[^\n]*code=UPDATER_CHANNEL_UNSIGNED/, 120_000);
      t.match(unsigned.match[0], /code=UPDATER_CHANNEL_UNSIGNED/, 'unsigned channel metadata is refused');
      const key = loadPrivateKey(await readFile(SIGNING_KEY));
      await replaceChannel(signChannelMetadata({ ...signed, published: '2026-01-01T00:00:00.000Z', expires: '2026-01-04T00:00:00.000Z' }, key));
      const expired = await vm.waitFor(/msg="Update phase" from=checking to=failed[^\n]*code=UPDATER_CHANNEL_EXPIRED/, 120_000);
      t.match(expired.match[0], /code=UPDATER_CHANNEL_EXPIRED/, 'expired channel metadata is refused');
      await replaceChannel(await readFile(join(staging, 'channels', 'old.json'), 'utf8'));
      // The retry backs off (15-30 s, then 30-60 s, ...): allow for one more refused fetch before the halted one.
      const halted = await vm.waitFor(/msg="Update phase" from=checking to=idle[^\n]*halted[^\n]*/, 300_000);
      t.match(halted.match[0], /reason="?halted \(3\.0\.0/, 'a halted release is not taken');
      const fetched = server.requests.slice(fetchedFrom).map((r) => r.path);
      t.ok(fetched.length >= 3 && fetched.every((path) => path === '/channels/old.json'), `only the channel file was fetched (${[...new Set(fetched)].join(' ')})`);
      await vm.powerdown();
    });

    await t.test('3.0.0 fails its health gate, falls back to 2.0.0, is recorded bad and not retried', async (t) => {
      await publish('3.0.0', 'stable', root);
      await writeFile(machine.paths.configFile, config('stable', CRITICAL_CONTAINER));
      let vm = await boot();
      let ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['b', '2.0.0']);
      const started = performance.now();
      await vm.waitFor(/msg="Rebooting for the update"/, STAGE_MS);
      t.comment(`update time from READY of 2.0.0 to the reboot into 3.0.0 (soak, check, download, write at 5 MiB/s, read-back, ESP): ${Math.round(performance.now() - started)} ms on ${machine.accel}`);
      await vm.waitForExit(120_000);

      vm = await boot();
      ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['a', '3.0.0'], '3.0.0 boots from slot a');
      const failed = await vm.waitFor(/msg="Update phase" from=confirming to=\S+[^\n]*/, 180_000);
      t.comment(failed.match[0]);
      await vm.waitForExit(120_000);
      t.notOk(vm.isRunning(), 'the agent rebooted after the failed gate');

      vm = await boot();
      ready = await vm.waitForReady(BOOT_MS);
      t.same([ready.slot, ready.version], ['b', '2.0.0'], 'systemd-boot falls back to 2.0.0');
      await vm.waitFor(updateLine('rolled-back'), 60_000);
      const shell = await vm.shell();
      const state = await journal(shell);
      t.ok(state.state.badVersions.includes('3.0.0'), `3.0.0 is recorded bad (${state.state.badVersions.join(',')})`);
      const status = await apiUpdateStatus(shell);
      t.ok(Array.isArray(status.bad_versions) && status.bad_versions.includes('3.0.0'), `GET /v1/update lists 3.0.0 as bad (${JSON.stringify(status.bad_versions)})`);
      const check = await vm.waitFor(/msg="Update phase" from=checking to=idle[^\n]*/, 120_000);
      t.match(check.match[0], /known-bad/, 'the next check skips 3.0.0 as known bad');
      t.notMatch(vm.console.text(), /msg="Stage step"/, '3.0.0 is not installed again');
      const after = await listBootEntries(shell);
      t.same(after, ['berth-b.conf'], `the bad slot's entry is gone, 2.0.0's stays blessed (${after.join(' ')})`);
      await vm.powerdown();
    });
  },
);
