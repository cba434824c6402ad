import t from 'tap';
import { openSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeExec } from '../../../lib/sys/exec.ts';
import { createNodeConsole, createNodeDevices, createNodeFileSystem, createNodePower, createNodeProcesses } from '../../src/sys/node.ts';
import { createFakeFileSystem } from '../../src/sys/fakes.ts';

void t.test('writeAtomic replaces a file and leaves no temp file behind', async (t) => {
  const dir = t.testdir({ 'config.yaml': 'old\n' });
  const fs = createNodeFileSystem();
  await fs.writeAtomic(join(dir, 'config.yaml'), 'new\n');
  t.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), 'new\n');
  t.same(readdirSync(dir), ['config.yaml']);
  t.equal(statSync(join(dir, 'config.yaml')).mode & 0o777, 0o600);
});

void t.test('file system basics', async (t) => {
  const dir = t.testdir({ a: 'text', sub: { b: '' } });
  const fs = createNodeFileSystem();
  t.equal(await fs.readText(join(dir, 'a')), 'text');
  t.ok(await fs.exists(join(dir, 'sub')));
  t.notOk(await fs.exists(join(dir, 'missing')));
  t.same((await fs.readDir(dir)).sort(), ['a', 'sub']);
  t.equal(await fs.size(join(dir, 'a')), 4);
  t.equal(await fs.size(join(dir, 'missing')), undefined);
  await fs.makeDir(join(dir, 'x/y/z'));
  t.ok(statSync(join(dir, 'x/y/z')).isDirectory());
  await fs.rename(join(dir, 'a'), join(dir, 'c'));
  await fs.syncDir(dir);
  t.equal(await fs.readText(join(dir, 'c')), 'text');
  await t.rejects(fs.readText(join(dir, 'a')), { code: 'ENOENT' });
});

void t.test('openAppend appends lines and closes once', async (t) => {
  const dir = t.testdir({ 'init.log': 'earlier\n' });
  const fs = createNodeFileSystem();
  const file = await fs.openAppend(join(dir, 'init.log'));
  file.write('one');
  file.write('two');
  await file.close();
  await file.close();
  file.write('after close');
  t.equal(readFileSync(join(dir, 'init.log'), 'utf8'), 'earlier\none\ntwo\n');
});

void t.test('spawned children get the fd as stdio and report their exit', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'out');
  const fd = openSync(out, 'w');
  const processes = createNodeProcesses();
  const child = processes.spawn('/bin/sh', ['-c', 'echo hello; echo oops >&2; exit 3'], { env: { PATH: '/usr/bin:/bin' }, stdioFd: fd, newSession: true });
  closeSync(fd);
  t.same(await child.exited, { code: 3, signal: null });
  t.equal(readFileSync(out, 'utf8'), 'hello\noops\n');
  const missing = processes.spawn('/nonexistent/sh', [], { env: {}, stdioFd: 2, newSession: false });
  t.match(await missing.exited, { code: null, error: /ENOENT/ });
  t.notOk(processes.kill(2 ** 22 + 12345, 'SIGTERM'), 'a pid that does not exist');
});

void t.test('child output comes line by line to onOutput, from stdout and stderr', async (t) => {
  const processes = createNodeProcesses();
  const lines: string[] = [];
  const script = 'echo one; echo two >&2; printf "three"; printf "x%.0s" $(seq 5000) >&2';
  const child = processes.spawn('/bin/sh', ['-c', script], { env: { PATH: '/usr/bin:/bin' }, newSession: true, onOutput: (line) => lines.push(line) });
  t.same(await child.exited, { code: 0, signal: null });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(lines.filter((l) => !l.startsWith('x')).sort(), ['one', 'three', 'two']);
  const long = lines.filter((l) => l.startsWith('x'));
  t.equal(long.join('').length, 5000, 'a long line without an end is delivered whole');
});

void t.test('symlink replaces what is there in one rename', async (t) => {
  const dir = t.testdir({ localtime: 'old file' });
  const fs = createNodeFileSystem();
  await fs.symlink('/usr/share/zoneinfo/Europe/Berlin', join(dir, 'localtime'));
  t.equal(readlinkSync(join(dir, 'localtime')), '/usr/share/zoneinfo/Europe/Berlin');
  await fs.symlink('/usr/share/zoneinfo/UTC', join(dir, 'localtime'));
  t.equal(readlinkSync(join(dir, 'localtime')), '/usr/share/zoneinfo/UTC');
  t.same(readdirSync(dir), ['localtime'], 'no temp link left');
});

void t.test('killing a new session kills its process group', async (t) => {
  const processes = createNodeProcesses();
  const child = processes.spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { env: { PATH: '/usr/bin:/bin' }, stdioFd: 2, newSession: true });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.ok(processes.kill(-child.pid, 'SIGKILL'));
  t.same(await child.exited, { code: null, signal: 'SIGKILL' });
});

void t.test('readStream delivers a file and its end', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'events'), Buffer.alloc(48, 1));
  const chunks: Uint8Array[] = [];
  const ended = await new Promise<unknown>((resolve) => {
    createNodeDevices().readStream(join(dir, 'events'), (chunk) => chunks.push(chunk), resolve);
  });
  t.equal(ended, undefined);
  t.equal(chunks.reduce((n, c) => n + c.byteLength, 0), 48);
  const error = await new Promise<unknown>((resolve) => {
    createNodeDevices().readStream(join(dir, 'missing'), () => undefined, resolve);
  });
  t.match(error, { code: 'ENOENT' });
});

void t.test('openReadWrite gives a usable fd', async (t) => {
  const dir = t.testdir({ tty: '' });
  const handle = await createNodeDevices().openReadWrite(join(dir, 'tty'));
  t.ok(handle.fd > 2);
  await handle.close();
});

void t.test('the console writes whole lines to its fd', (t) => {
  const dir = t.testdir();
  const fd = openSync(join(dir, 'console'), 'w');
  const console = createNodeConsole(fd);
  console.writeLine('BERTH-READY slot=a version=1 boot_ms=2');
  console.writeLine('level=info component=init msg=x');
  closeSync(fd);
  console.writeLine('after close is swallowed');
  t.equal(readFileSync(join(dir, 'console'), 'utf8'), 'BERTH-READY slot=a version=1 boot_ms=2\nlevel=info component=init msg=x\n');
  t.end();
});

void t.test('power uses busybox -f, and sysrq when busybox fails', async (t) => {
  const exec = createFakeExec(() => new Error('not started'));
  const fs = createFakeFileSystem();
  await createNodePower(exec, fs).reboot();
  t.same(exec.calls.map((c) => [c.file, ...c.args]), [['/usr/bin/busybox', 'reboot', '-f']]);
  t.same(fs.ops, ['write /proc/sysrq-trigger s', 'write /proc/sysrq-trigger b']);
  const fs2 = createFakeFileSystem();
  const exec2 = createFakeExec(() => new Error('not started'));
  await createNodePower(exec2, fs2).powerOff();
  t.same(exec2.calls[0]?.args, ['poweroff', '-f']);
  t.same(fs2.ops.at(-1), 'write /proc/sysrq-trigger o');
});
