import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DebugShell } from '../../src/shell.ts';
import { errorCode } from '../../../lib/errors.ts';

/**
 * A fake guest shell on a unix socket, the way QEMU serves serial 1: reads command lines,
 * runs them through `behave`, and writes back output and the marker the way /bin/sh would.
 */
async function fakeShell(
  t: Test,
  behave: (command: string, socket: Socket) => { output: string; status: number } | 'drop' | 'hang',
): Promise<{ path: string; commands: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-shell-'));
  const path = join(dir, 'shell.sock');
  const commands: string[] = [];
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      // Each command arrives as `{ <cmd>\n} </dev/null 2>&1; echo "__END_<n>_$?__"\n`.
      for (let m = /^\{ ([\s\S]*?)\n\} <\/dev\/null 2>&1; echo "__END_(\d+)_\$\?__"\n/.exec(buffer); m; m = /^\{ ([\s\S]*?)\n\} <\/dev\/null 2>&1; echo "__END_(\d+)_\$\?__"\n/.exec(buffer)) {
        buffer = buffer.slice(m[0].length);
        const command = m[1] ?? '';
        commands.push(command);
        const result = behave(command, socket);
        if (result === 'drop' || result === 'hang') continue;
        const text = `${result.output}__END_${m[2]}_${result.status}__\n`;
        for (let i = 0; i < text.length; i += 5) socket.write(text.slice(i, i + 5));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((done) => server.listen(path, done));
  t.teardown(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { path, commands };
}

await t.test('run returns output and exit status per command', async (t) => {
  const fake = await fakeShell(t, (command) => {
    if (command === 'cat /etc/hostname') return { output: 'berth\r\n', status: 0 };
    if (command === 'touch /usr/x') return { output: "touch: cannot touch '/usr/x': Read-only file system\n", status: 1 };
    return { output: '', status: 0 };
  });
  const shell = await DebugShell.connect(fake.path);
  t.teardown(() => shell.close());
  t.same(await shell.run('cat /etc/hostname'), { exitCode: 0, output: 'berth\n' });
  t.same(await shell.run('touch /usr/x'), { exitCode: 1, output: "touch: cannot touch '/usr/x': Read-only file system\n" });
  t.equal(await shell.check('cat /etc/hostname'), 'berth\n');
  await t.rejects(shell.check('touch /usr/x'), { code: errorCode('QEMU_SHELL_COMMAND_FAILED'), message: /Read-only file system/ });
});

await t.test('waitUntilReady retries until the guest shell answers, then drops stale output', async (t) => {
  let pings = 0;
  const fake = await fakeShell(t, (command) => {
    if (command === ':') {
      pings += 1;
      // The first ping is lost (the guest shell is not up yet); the second is answered late
      // with noise, as a shell starting on a line in cooked mode would.
      if (pings === 1) return 'drop';
      return { output: pings === 2 ? 'noise from boot\n' : '', status: 0 };
    }
    return { output: 'fresh\n', status: 0 };
  });
  const shell = await DebugShell.connect(fake.path);
  t.teardown(() => shell.close());
  await shell.waitUntilReady(20_000);
  t.same(await shell.run('echo fresh'), { exitCode: 0, output: 'fresh\n' }, 'no stale output leaks into the next command');
  t.ok(pings >= 3);
});

await t.test('a command that never ends times out; a busy shell refuses a second command', async (t) => {
  const fake = await fakeShell(t, (command) => (command === 'sleep 1000' ? 'hang' : { output: 'partial\n', status: 0 }));
  const shell = await DebugShell.connect(fake.path);
  t.teardown(() => shell.close());
  const hanging = shell.run('sleep 1000', { timeoutMs: 300 });
  await t.rejects(shell.run('true'), { code: errorCode('QEMU_SHELL_BUSY') });
  await t.rejects(hanging, { code: errorCode('QEMU_SHELL_TIMEOUT') });
});

await t.test('waitUntilReady fails with a hint when nothing answers', async (t) => {
  const fake = await fakeShell(t, () => 'drop');
  const shell = await DebugShell.connect(fake.path);
  t.teardown(() => shell.close());
  await t.rejects(shell.waitUntilReady(500), { code: errorCode('QEMU_TIMEOUT'), message: /debug\.shell/ });
});

await t.test('a closed connection ends a running command at once', async (t) => {
  const fake = await fakeShell(t, (_command, socket) => {
    socket.destroy();
    return 'hang';
  });
  const shell = await DebugShell.connect(fake.path);
  const start = performance.now();
  await t.rejects(shell.run('poweroff', { timeoutMs: 10_000 }), { code: errorCode('QEMU_SHELL_CLOSED') });
  t.ok(performance.now() - start < 5000);
});

await t.test('runUntil repeats a command until its output matches, or gives the last output at the deadline', async (t) => {
  let asked = 0;
  const fake = await fakeShell(t, (command) => {
    if (command === 'state') return { output: ++asked >= 2 ? 'running\n' : 'created\n', status: 0 };
    return { output: 'never\n', status: 0 };
  });
  const shell = await DebugShell.connect(fake.path);
  t.teardown(() => shell.close());
  t.equal(await shell.runUntil('state', /running/, 10_000), 'running\n', 'the first matching output');
  t.equal(asked, 2, 'asked again after a non-matching answer');
  t.equal(await shell.runUntil('other', /running/, 0), 'never\n', 'past the deadline: the last output, for the assertion to show');
});
