/**
 * berth-pid1 (native/berth-pid1.c), compiled with the image's own gcc flags and run on the
 * host as a child subreaper in front of fake "init" scripts that crash, leave orphans and
 * handle signals: restarts with backoff, the environment a restarted init sees, the stderr
 * tail on the console, reaping, signal forwarding, and the crash-loop reboot path (the test
 * hook prints instead of rebooting; it is honoured only when not PID 1).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { nativeCompileArgv } from '../../../image-builder/src/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function compile(dir: string): string {
  execFileSync('/usr/bin/gcc', nativeCompileArgv(repoRoot, 'berth-pid1.c', dir), { stdio: 'inherit' });
  return path.join(dir, 'berth-pid1');
}

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(pid1: string, program: string, env: Record<string, string> = {}, args: { pid1?: string[]; program?: string[] } = {}): Run {
  const child = spawn(pid1, [...(args.pid1 ?? []), '--', program, ...(args.program ?? [])], { env: { PATH: '/usr/bin:/bin', BERTH_PID1_TEST_BACKOFF_MS: '20', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** Ends a run: its init and anything else below pid1 first (they hold the output pipes), then pid1. */
async function stop(r: Run): Promise<void> {
  for (const c of childrenOf(r.child.pid ?? 0)) process.kill(c.pid, 'SIGKILL');
  r.child.kill('SIGKILL');
  await r.exited;
  r.child.stdout?.destroy();
  r.child.stderr?.destroy();
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Children of `pid` from /proc, with their state letter. */
function childrenOf(pid: number): { pid: number; state: string }[] {
  const found: { pid: number; state: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid) found.push({ pid: Number(name), state: state ?? '?' });
    } catch {
      // Gone between readdir and read.
    }
  }
  return found;
}

void t.test('berth-pid1', async (t) => {
  const dir = t.testdir({});
  const pid1 = compile(dir);

  await t.test('a crashing init is restarted with a doubling delay, told why, and a crash loop ends in the reboot path', async (t) => {
    const init = script(dir, 'crash.sh', ['echo "start restarts=${BERTH_INIT_RESTARTS:-0} last=${BERTH_INIT_LAST_EXIT:-none}"', 'echo "warning one" >&2', 'echo "it broke \\"badly\\"" >&2', 'exit 3'].join('\n'));
    const r = run(pid1, init, { BERTH_PID1_TEST_NO_REBOOT: '1' });
    t.equal(await r.exited, 70, 'the test hook exits 70 where PID 1 would reboot');
    t.same(
      r.out().trim().split('\n'),
      ['start restarts=0 last=none', ...[1, 2, 3, 4].map((n) => `start restarts=${n} last=exit-code:3`)],
      'four restarts, each told the count and the last exit',
    );
    const restarts = r.err().split('\n').filter((l) => l.includes('msg="Init exited, restarting"'));
    t.same(
      restarts.map((l) => /delay_ms=(\d+)/.exec(l)?.[1]),
      ['20', '40', '80', '160'],
      'the delay doubles per exit in the window',
    );
    t.match(restarts[0], /^level=error component=pid1 msg="Init exited, restarting" exit_code=3 signal=none reason=exit-code:3 restart=1 /);
    t.match(r.err(), /msg="Init stderr" line="it broke \\"badly\\""/, 'the stderr tail is logged, quoted');
    t.match(r.err(), /msg="Init exited, restarts exhausted"[^\n]*exits_in_window=5/);
    t.match(r.err(), /msg="Rebooting" reason=init-crash-loop/);
    t.match(r.err(), /msg="Rebooting skipped, not PID 1" reason=init-crash-loop/);
  });

  await t.test('an init killed by a signal or by a V8 heap limit is restarted with that reason', async (t) => {
    const marker = path.join(dir, 'heap-once');
    const init = script(
      dir,
      'die.sh',
      [
        'echo "last=${BERTH_INIT_LAST_EXIT:-none}"',
        `if [ ! -e ${marker} ]; then touch ${marker}; kill -KILL $$; fi`,
        'if [ "${BERTH_INIT_RESTARTS}" = 1 ]; then echo "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory" >&2; kill -ABRT $$; fi',
        'exec sleep 30',
      ].join('\n'),
    );
    const r = run(pid1, init);
    t.teardown(() => stop(r));
    await until('the third start', () => r.out().split('\n').length > 3);
    t.same(r.out().trim().split('\n'), ['last=none', 'last=signal:SIGKILL', 'last=heap-exhausted']);
    t.match(r.err(), /signal=SIGABRT reason=heap-exhausted restart=2/);
  });

  await t.test('with --snapshot, a Node that dies before init removed the snapshot is started again at once from the script, as the first start', async (t) => {
    const snapshot = path.join(dir, 'broken-snapshot.blob');
    writeFileSync(snapshot, 'heap');
    const init = script(
      dir,
      'snap-broken.sh',
      ['echo "args=$* restarts=${BERTH_INIT_RESTARTS:-0}"', 'if [ "$1" = --snapshot-blob ]; then echo "read=$(cat "$2")"; echo "damaged heap" >&2; exit 3; fi', 'exec sleep 30'].join('\n'),
    );
    const r = run(pid1, init, {}, { pid1: ['--snapshot', snapshot], program: ['--max-old-space-size=192', '/usr/lib/berth/berth.mjs'] });
    t.teardown(() => stop(r));
    await until('the start from the script', () => r.out().split('\n').length > 3);
    t.same(
      r.out().trim().split('\n'),
      [
        `args=--snapshot-blob ${snapshot}.in-use --verify-snapshot-checksum --max-old-space-size=192 restarts=0`,
        'read=heap',
        'args=--max-old-space-size=192 /usr/lib/berth/berth.mjs restarts=0',
      ],
      'the snapshot options follow the program and the script is left out; the second start runs the script and is no restart',
    );
    t.match(r.err(), /msg="Init starts from its startup snapshot" file=\S+broken-snapshot\.blob\.in-use/);
    t.match(r.err(), /msg="Init's startup snapshot failed, starting from the script" exit_code=3 signal=none reason=exit-code:3/);
    t.match(r.err(), /msg="Init stderr" line="damaged heap"/);
    t.notMatch(r.err(), /Init exited, restarting/);
    t.same(readdirSync(dir).filter((f) => f.startsWith('broken-snapshot')), ['broken-snapshot.blob.in-use'], 'the used file stays: init reads it as the failed start');
  });

  await t.test('with --snapshot, an init that ran (removed the file) and died is restarted as usual, from the script', async (t) => {
    const snapshot = path.join(dir, 'good-snapshot.blob');
    writeFileSync(snapshot, 'heap');
    const init = script(dir, 'snap-good.sh', ['echo "args=$* restarts=${BERTH_INIT_RESTARTS:-0}"', 'if [ "$1" = --snapshot-blob ]; then rm "$2"; exit 3; fi', 'exec sleep 30'].join('\n'));
    const r = run(pid1, init, {}, { pid1: ['--snapshot', snapshot], program: ['/usr/lib/berth/berth.mjs'] });
    t.teardown(() => stop(r));
    await until('the restart', () => r.out().split('\n').length > 2);
    t.same(r.out().trim().split('\n'), [`args=--snapshot-blob ${snapshot}.in-use --verify-snapshot-checksum restarts=0`, 'args=/usr/lib/berth/berth.mjs restarts=1']);
    t.match(r.err(), /msg="Init exited, restarting" exit_code=3 /);
    t.notMatch(r.err(), /snapshot failed/);
  });

  await t.test('with --snapshot and no snapshot file, init runs the script', async (t) => {
    const init = script(dir, 'nosnap.sh', ['echo "args=$*"', 'exec sleep 30'].join('\n'));
    const r = run(pid1, init, {}, { pid1: ['--snapshot', path.join(dir, 'absent.blob')], program: ['/usr/lib/berth/berth.mjs'] });
    t.teardown(() => stop(r));
    await until('the start', () => r.out().includes('args='));
    t.equal(r.out().trim(), 'args=/usr/lib/berth/berth.mjs');
    t.notMatch(r.err(), /startup snapshot/);
  });

  await t.test('orphans left by init are reaped', async (t) => {
    const init = script(dir, 'orphans.sh', ['for i in 1 2 3; do sh -c "sleep 0.2 &"; done', 'echo spawned', 'exec sleep 30'].join('\n'));
    const r = run(pid1, init);
    t.teardown(() => stop(r));
    await until('the orphans', () => r.out().includes('spawned'));
    const pid = r.child.pid ?? 0;
    await until('only init left below pid1', () => childrenOf(pid).length === 1);
    t.same(
      childrenOf(pid).map((c) => c.state),
      ['S'],
      'no zombie: the sleeps re-parented to pid1 were reaped',
    );
  });

  await t.test('shutdown signals are forwarded to init, and init is restarted after it exits', async (t) => {
    const init = script(
      dir,
      'signals.sh',
      ['trap \'echo got-TERM; exit 0\' TERM', 'trap \'echo got-USR1\' USR1', 'echo "ready ${BERTH_INIT_RESTARTS:-0}"', 'while :; do sleep 0.05; done'].join('\n'),
    );
    const r = run(pid1, init);
    t.teardown(() => stop(r));
    await until('init up', () => r.out().includes('ready 0'));
    r.child.kill('SIGUSR1');
    await until('USR1 forwarded', () => r.out().includes('got-USR1'));
    r.child.kill('SIGTERM');
    await until('TERM forwarded and init restarted', () => r.out().includes('ready 1'));
    t.match(r.out(), /got-USR1\n[^]*got-TERM\n[^]*ready 1/);
    t.match(r.err(), /msg="Init exited, restarting" exit_code=0 signal=none reason=exit-code:0 restart=1/);
  });

  await t.test('a power request while init is down (between restarts) is carried out by pid1 itself', async (t) => {
    const init = script(dir, 'quick-crash.sh', ['echo "up ${BERTH_INIT_RESTARTS:-0}"', 'exit 1'].join('\n'));
    const r = run(pid1, init, { BERTH_PID1_TEST_NO_REBOOT: '1', BERTH_PID1_TEST_BACKOFF_MS: '60000' });
    await until('the first exit', () => r.err().includes('msg="Init exited, restarting"'));
    r.child.kill('SIGTERM');
    t.equal(await r.exited, 70);
    t.match(r.err(), /msg="Powering off" reason=poweroff-while-init-down/);
    t.match(r.err(), /msg="Powering off skipped, not PID 1"/);
    t.equal(r.out(), 'up 0\n', 'no restart after the power request');
  });

  await t.test('without a program it says how to use it', async (t) => {
    const child = spawn(pid1, [], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.equal(code, 2);
    t.match(err, /Usage: berth-pid1 \[--snapshot <file>\] -- <program>/);
  });
});
