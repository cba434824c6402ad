/**
 * Init's V8 startup snapshot (init/src/startup-snapshot.ts) on the real Node: the first boot
 * builds it once the boot settled and keeps it on /var named by the root hash; the reboot starts
 * init's Node from it (berth-pid1 --snapshot) and serves as usual; a damaged snapshot is caught
 * by V8's checksum, and that boot still comes up as a first start (BERTH-READY, no restart
 * counted), drops the kept file, and the next settled boot builds a new one.
 */
import t from 'tap';
import { runVmCase } from '../harness/case.ts';
import { guestApiOk } from '../harness/guest-api.ts';
import { FAILED_PATTERN, PANIC_PATTERN } from '../../vm/src/index.ts';

const KEPT_DIR = '/var/cache/berth/node-snapshot';
/** The build runs 10 s after BERTH-READY (after the code cache), niced, for several seconds of emulated CPU. */
const SNAPSHOT_TIMEOUT_MS = 240_000;

await runVmCase(t, 'startup-snapshot', { boots: 3 }, async ({ machine }) => {
  // A restart of init (BERTH-RESTARTED) would mean the snapshot's failure counted as init's.
  const failOn = [PANIC_PATTERN, FAILED_PATTERN, /BERTH-RESTARTED [^\n]*/];
  let keptName = '';

  await t.test('first boot: init starts from the bundle and keeps a snapshot named by the root hash', async (t) => {
    const vm = await machine.boot();
    await vm.waitForReady();
    const starting = await vm.waitFor(/msg="Init starting" [^\n]*node_from=(\w[\w-]*)/, 30_000);
    t.equal(starting.match[1], 'bundle');
    const saved = await vm.waitFor(/msg="Startup snapshot saved" bytes=(\d+) removed=(\d+)/, SNAPSHOT_TIMEOUT_MS, { failOn });
    t.comment(saved.match[0]);
    const shell = await vm.shell();
    const rootHash = /berth\.roothash=([0-9a-f]+)/.exec(await shell.check('cat /proc/cmdline'))?.[1] ?? '';
    t.ok(rootHash.length >= 32, 'the root hash is on the kernel command line');
    keptName = `init-${rootHash}.blob`;
    t.equal((await shell.check(`ls -A ${KEPT_DIR}`)).trim(), keptName, 'one file, named by the root hash, no temporary file left');
    t.equal((await shell.check(`stat -c %s ${KEPT_DIR}/${keptName}`)).trim(), saved.match[1], 'the size logged');
    await vm.powerdown(90_000);
  });

  await t.test('reboot: init starts from the snapshot, removes the copy and serves', async (t) => {
    const vm = await machine.boot();
    await vm.waitFor(/msg="Init starts from its startup snapshot" file=\/run\/berth\/init-snapshot\.blob\.in-use/, 120_000, { failOn });
    await vm.waitForReady();
    const starting = await vm.waitFor(/msg="Init starting" [^\n]*node_from=(\w[\w-]*)/, 30_000);
    t.equal(starting.match[1], 'snapshot');
    const shell = await vm.shell();
    t.equal((await shell.check('ls -A /run/berth | grep -c init-snapshot || true')).trim(), '0', 'the tmpfs copy is gone: Node read it, its pages are free');
    const status = JSON.parse((await guestApiOk(shell, 'GET', '/v1/status')).body) as { init: { restarts: number } };
    t.equal(status.init.restarts, 0, 'the API answers; no restart');
    t.equal((await shell.check(`ls -A ${KEPT_DIR}`)).trim(), keptName, 'the kept snapshot stays');
    // Damage the heap in the middle of the kept file, as a bad disk would.
    await shell.check(`size=$(stat -c %s ${KEPT_DIR}/${keptName}); printf 'berth-damage' | dd of=${KEPT_DIR}/${keptName} bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null; sync`);
    await vm.powerdown(90_000);
  });

  await t.test('a damaged snapshot: V8 refuses it, init starts from the bundle as a first start and drops it', async (t) => {
    const vm = await machine.boot();
    const failed = await vm.waitFor(/msg="Init's startup snapshot failed, starting from the script" [^\n]*/, 120_000, { failOn });
    t.comment(failed.match[0]);
    const ready = await vm.waitForReady();
    t.ok(ready.bootMs > 0, 'BERTH-READY, not BERTH-RESTARTED');
    const starting = await vm.waitFor(/msg="Init starting" [^\n]*node_from=(\w[\w-]*)/, 30_000);
    t.equal(starting.match[1], 'snapshot-failed');
    await vm.waitFor(/msg="Startup snapshot dropped" reason=start-failed removed=1/, SNAPSHOT_TIMEOUT_MS, { failOn });
    const shell = await vm.shell();
    t.equal((await shell.check(`ls -A ${KEPT_DIR}`)).trim(), '', 'no snapshot kept: the next boot runs the bundle and builds a new one');
    const status = JSON.parse((await guestApiOk(shell, 'GET', '/v1/status')).body) as { init: { restarts: number } };
    t.equal(status.init.restarts, 0, 'not counted as a restart of init');
    await vm.kill();
  });
});
