/**
 * A file written in /var survives a reboot: boot, write and sync, power off through ACPI
 * (QEMU exits: -no-reboot), boot the same overlay again, read the file back.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { runVmCase } from '../harness/case.ts';

await runVmCase(t, 'persistence', { boots: 2 }, async ({ machine }) => {
  const token = randomBytes(16).toString('hex');

  await t.test('first boot: write a file in /var and power off', async (t) => {
    const vm = await machine.boot();
    const ready = await vm.waitForReady();
    t.comment(`boot=1 boot_ms=${ready.bootMs} wall_ms=${ready.wallMs}`);
    const shell = await vm.shell();
    await shell.check(`mkdir -p /var/berth-test && echo ${token} > /var/berth-test/persist && sync`);
    t.equal((await shell.check('cat /var/berth-test/persist')).trim(), token, 'the file reads back before the reboot');
    // Not the timed power-off check (boot.test.ts has it): allow more than 30 s here.
    const { exit } = await vm.powerdown(90_000);
    t.equal(exit.code, 0, 'QEMU exits after the guest powers off');
  });

  await t.test('second boot of the same disk: the file is still there', async (t) => {
    const vm = await machine.boot();
    const ready = await vm.waitForReady();
    t.comment(`boot=2 boot_ms=${ready.bootMs} wall_ms=${ready.wallMs}`);
    t.equal(ready.slot, 'a', 'boots slot a again');
    const shell = await vm.shell();
    const result = await shell.run('cat /var/berth-test/persist');
    t.equal(result.exitCode, 0, 'the file exists');
    t.equal(result.output.trim(), token, 'the file has what was written');
    await vm.kill();
  });
});
