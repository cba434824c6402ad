/**
 * PID 1 outlives init: init's Node is killed with SIGKILL, then made to exhaust its V8 heap
 * (the debug-only trigger); each time berth-pid1 stays (no kernel panic, the VM does not
 * reboot), logs why, starts init again, which prints BERTH-RESTARTED (never a second
 * BERTH-READY), answers on the API socket again with its restart count and reason in the
 * status, and leaves the boot entries on the ESP as they were.
 */
import t from 'tap';
import { runVmCase } from '../harness/case.ts';
import { listBootEntries } from '../harness/esp.ts';
import { guestApiOk } from '../harness/guest-api.ts';
import { FAILED_PATTERN, PANIC_PATTERN, READY_PATTERN } from '../../vm/src/index.ts';

interface StatusInit {
  pid: number;
  restarts: number;
  last_restart_reason: string | null;
  rss_bytes: number;
}

const RESTART_TIMEOUT_MS = 180_000;

await runVmCase(t, 'pid1', { boots: 1 }, async ({ machine }) => {
  const vm = await machine.boot();
  await vm.waitForReady();
  const shell = await vm.shell();
  const failOn = [PANIC_PATTERN, FAILED_PATTERN];

  const status = async (): Promise<StatusInit> => {
    const answer = await guestApiOk(shell, 'GET', '/v1/status');
    return (JSON.parse(answer.body) as { init: StatusInit }).init;
  };

  const first = await status();
  const entries = await listBootEntries(shell);
  t.comment(`init pid=${first.pid} rss_bytes=${first.rss_bytes} entries=${entries.join(' ')}`);

  await t.test('the status shows a first start', (t) => {
    t.equal(first.restarts, 0);
    t.equal(first.last_restart_reason, null);
    t.ok(first.rss_bytes > 0, 'RSS is reported');
    t.not(first.pid, 1, "init's Node is not PID 1");
    t.end();
  });

  await t.test("SIGKILL to init's Node: PID 1 stays, init restarts, the API answers again", async (t) => {
    const from = vm.console.text().length;
    const killedAt = performance.now();
    await shell.check(`kill -KILL ${first.pid}`);
    const logged = await vm.waitFor(/component=pid1 msg="Init exited, restarting"[^\r\n]*/, 30_000, { from, failOn });
    t.match(logged.match[0], /signal=SIGKILL reason=signal:SIGKILL restart=1/, 'PID 1 logs the exit and the restart');
    const restarted = await vm.waitFor(/BERTH-RESTARTED restarts=1 reason=signal:SIGKILL slot=a [^\r\n]*/, RESTART_TIMEOUT_MS, { from, failOn });
    t.ok(restarted, 'the restart line');
    t.comment(`kill_to_restarted_wall_ms=${Math.round(performance.now() - killedAt)}`);
    t.notOk(READY_PATTERN.test(vm.console.text().slice(from)), 'no second BERTH-READY');
    t.ok(vm.isRunning(), 'the VM did not reboot');
    const after = await status();
    t.not(after.pid, first.pid, 'a new init');
    t.equal(after.restarts, 1);
    t.equal(after.last_restart_reason, 'signal:SIGKILL');
    t.same(await listBootEntries(shell), entries, 'boot entries unchanged');
    const pid1 = (await shell.check('cat /proc/1/comm')).trim();
    t.equal(pid1, 'berth-pid1', 'PID 1 is still berth-pid1');
  });

  await t.test('heap exhaustion through the debug trigger: the same, with the reason on the console', async (t) => {
    const before = await status();
    const from = vm.console.text().length;
    const triggeredAt = performance.now();
    await shell.check('touch /run/berth/debug/exhaust-heap');
    const logged = await vm.waitFor(/component=pid1 msg="Init exited, restarting"[^\r\n]*/, RESTART_TIMEOUT_MS, { from, failOn });
    t.match(logged.match[0], /reason=heap-exhausted restart=2/, 'PID 1 names the heap exhaustion');
    t.comment(`trigger_to_exit_wall_ms=${Math.round(performance.now() - triggeredAt)}`);
    const text = vm.console.text().slice(from);
    t.match(text, /FATAL ERROR: [^\r\n]*heap out of memory/, "Node's stderr reaches the console");
    t.match(text, /component=pid1 msg="Init stderr" line="/, "and PID 1 repeats its last lines with the exit");
    await vm.waitFor(/BERTH-RESTARTED restarts=2 reason=heap-exhausted slot=a [^\r\n]*/, RESTART_TIMEOUT_MS, { from, failOn });
    t.comment(`trigger_to_restarted_wall_ms=${Math.round(performance.now() - triggeredAt)}`);
    t.notOk(READY_PATTERN.test(vm.console.text().slice(from)), 'no second BERTH-READY');
    t.ok(vm.isRunning(), 'the VM did not reboot');
    const after = await status();
    t.not(after.pid, before.pid, 'a new init');
    t.equal(after.restarts, 2);
    t.equal(after.last_restart_reason, 'heap-exhausted');
    t.comment(`restarted init rss_bytes=${after.rss_bytes}`);
    t.same(await listBootEntries(shell), entries, 'boot entries unchanged');
  });
});
