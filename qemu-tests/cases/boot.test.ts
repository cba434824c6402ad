/**
 * One boot of a fresh machine: it reaches BERTH-READY on slot a; / and /usr are read-only;
 * /var is ext4 grown to fill the disk; an orphaned zombie is reaped; the boot entry is
 * blessed; and ACPI power-off ends it cleanly within 30 s.
 */
import t from 'tap';
import { runVmCase } from '../harness/case.ts';
import { listBootEntries } from '../harness/esp.ts';
import { TIMEOUTS } from '../../vm/src/index.ts';

await runVmCase(t, 'boot', { boots: 1 }, async ({ machine, image }) => {
  const vm = await machine.boot();
  const ready = await vm.waitForReady();
  t.comment(`boot_ms=${ready.bootMs} wall_ms=${ready.wallMs} accel=${(await vm.isKvm()) ? 'kvm' : 'tcg'}`);

  await t.test('boots to BERTH-READY on slot a with the image version', (t) => {
    t.equal(ready.slot, 'a');
    t.equal(ready.version, image.manifest.version);
    t.end();
  });

  const shell = await vm.shell();

  await t.test('/ and /usr are read-only', async (t) => {
    for (const path of ['/berth-write-test', '/usr/berth-write-test']) {
      const result = await shell.run(`touch ${path}`);
      t.not(result.exitCode, 0, `writing ${path} fails`);
      t.match(result.output, /Read-only file system/, `writing ${path} fails as read-only`);
    }
  });

  await t.test('/var is a mounted ext4 grown to fill the disk', async (t) => {
    const mounts = (await shell.check('cat /proc/mounts')).split('\n').map((line) => line.split(' '));
    const varMount = mounts.find((fields) => fields[1] === '/var');
    if (!t.ok(varMount, '/var is a mount point') || !varMount) return;
    const [source = '', , fstype = ''] = varMount;
    t.equal(fstype, 'ext4', '/var is ext4');
    const device = (await shell.check(`readlink -f ${source}`)).trim();
    const name = device.replace(/^\/dev\//, '');
    const [partSectors, diskSectors] = (await shell.check(`cat /sys/class/block/${name}/size /sys/class/block/${name}/../size`))
      .trim()
      .split(/\s+/)
      .map(Number);
    const partBytes = (partSectors ?? 0) * 512;
    const diskBytes = (diskSectors ?? 0) * 512;
    const dumpe2fs = await shell.check(`dumpe2fs -h ${device} 2>/dev/null`);
    const blockCount = Number(/^Block count:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
    const blockSize = Number(/^Block size:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
    const fsBytes = blockCount * blockSize;
    const data = image.partition('data');
    t.comment(`var=${device} partition_bytes=${partBytes} fs_bytes=${fsBytes} disk_bytes=${diskBytes} built_data_bytes=${data.sizeBytes}`);
    t.equal(diskBytes, machine.diskBytes, 'the guest sees the overlay disk size');
    t.ok(partBytes > data.sizeBytes, 'the data partition grew beyond its built size');
    // GPT keeps a backup header at the end of the disk, and partitions are MiB-aligned.
    t.ok(data.startBytes + partBytes >= diskBytes - 4 * 1024 * 1024, 'the data partition reaches the end of the disk');
    // resize2fs may leave out a last block group too small to hold its own metadata.
    t.ok(fsBytes >= partBytes - 16 * 1024 * 1024, 'the filesystem fills the data partition');
  });

  await t.test('an orphaned zombie is reaped', async (t) => {
    const pid = (await shell.check(`sh -c 'sleep 1 & echo $!; exit 0'`)).trim();
    t.match(pid, /^\d+$/, 'the orphan was started');
    await new Promise((done) => setTimeout(done, 3000));
    const zombies = await shell.run('grep -ls "State:.*Z" /proc/[0-9]*/status');
    const found = zombies.output.trim();
    const details = found === '' ? '' : (await shell.run(`for f in ${found.split(/\s+/).join(' ')}; do grep -H -E "^(Name|State|PPid)" $f; done`)).output;
    t.equal(found, '', 'no process is a zombie', { details });
    const gone = await shell.run(`test -e /proc/${pid}`);
    t.not(gone.exitCode, 0, `the orphan (pid ${pid}) is gone from /proc`);
  });

  await t.test('the boot entry is blessed after a good boot', async (t) => {
    // The boot gate blesses only after the soak (update.soak, default 2 minutes) with every
    // critical container healthy: right after READY the entry must still carry its counter.
    const early = await listBootEntries(shell);
    t.ok(early.some((e) => /^berth-a\+\d+-\d+\.conf$/.test(e)), `not blessed before the soak: ${early.join(' ')}`);
    const deadline = performance.now() + 240_000;
    let entries: string[] = [];
    for (;;) {
      entries = await listBootEntries(shell);
      const blessed = entries.includes('berth-a.conf') && !entries.some((e) => e.startsWith('berth-a+'));
      if (blessed || performance.now() > deadline) break;
      await new Promise((done) => setTimeout(done, 5000));
    }
    t.comment(`loader/entries: ${entries.join(' ')}`);
    t.ok(entries.includes('berth-a.conf'), 'berth-a.conf is present');
    t.same(entries.filter((e) => e.startsWith('berth-a+')), [], 'no berth-a+*.conf is left');
  });

  await t.test('ACPI power-off shuts down cleanly within 30 s', async (t) => {
    const from = vm.console.text().length;
    const { exit, elapsedMs } = await vm.powerdown(TIMEOUTS.powerdownMs);
    t.comment(`powerdown_ms=${elapsedMs}`);
    t.equal(exit.code, 0, 'QEMU exits normally (the guest powered off)');
    t.ok(elapsedMs <= 30_000, 'within 30 s');
    const done = await vm.waitFor(/msg="?Shutdown complete"?[^\r\n]*/, 5000, { from }).catch(() => undefined);
    t.ok(done, 'the console shows init\'s msg="Shutdown complete" line');
  });
});
