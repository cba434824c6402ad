/**
 * The VM runner against a fake qemu-system-x86_64: a small Node program that reads the
 * argv the runner built, serves QMP and serial 1 on the unix sockets, and writes a console
 * log. Real qemu-img makes the overlay. No VM is booted.
 */
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { errorCode } from '../../../lib/errors.ts';
import { createExec } from '../../../lib/sys/exec.ts';
import { freePort } from '../../../lib/sys/free-port.ts';
import type { BuiltImage } from '../../src/image.ts';
import { createMachine, findQemuTools, type QemuTools } from '../../src/vm.ts';

const FAKE_QEMU = `#!${process.execPath}
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';

const argv = process.argv.slice(2);
const values = (flag) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
const options = (value) => Object.fromEntries(value.split(',').map((kv) => kv.split('=')));
const chardevs = Object.fromEntries(values('-chardev').map((v) => [options(v).id, options(v)]));
const config = values('-fw_cfg').map((v) => readFileSync(options(v).file, 'utf8')).join('');
const consoleLog = chardevs.console.path;
const log = (line) => appendFileSync(consoleLog, line + '\\n');
if (config.includes('fake: die')) {
  process.stderr.write('qemu-system-x86_64: -drive if=none: Could not open disk\\n');
  process.exit(1);
}
// Like QEMU, listen on every hostfwd port first, and fail with QEMU's words when one is taken.
const netdev = values('-netdev').join(',');
for (const m of netdev.matchAll(/hostfwd=tcp:127\\.0\\.0\\.1:(\\d+)-:(\\d+)/g)) {
  const listening = await new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(Number(m[1]), '127.0.0.1', () => done(true));
  });
  if (!listening) {
    process.stderr.write(\`qemu-system-x86_64: -netdev \${netdev}: Could not set up host forwarding rule 'tcp:127.0.0.1:\${m[1]}-:\${m[2]}'\\n\`);
    process.exit(1);
  }
}
const counter = join(dirname(consoleLog), 'fake-boots');
const boot = existsSync(counter) ? Number(readFileSync(counter, 'utf8')) + 1 : 1;
writeFileSync(counter, String(boot));

const shell = createServer((socket) => {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffer += chunk;
    for (let m = /^[\\s\\S]*?echo "__END_\\d+_\\$\\?__"\\n/.exec(buffer); m; m = /^[\\s\\S]*?echo "__END_\\d+_\\$\\?__"\\n/.exec(buffer)) {
      buffer = buffer.slice(m[0].length);
      socket.write(execFileSync('/bin/sh', ['-c', m[0]], { encoding: 'utf8' }));
    }
  });
});
shell.listen(chardevs.shell.path);

const qmp = createServer((socket) => {
  socket.setEncoding('utf8');
  const send = (message) => socket.write(JSON.stringify(message) + '\\r\\n');
  send({ QMP: { version: {}, capabilities: [] } });
  let buffer = '';
  socket.on('data', (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\\n'); nl !== -1; nl = buffer.indexOf('\\n')) {
      const command = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (command.execute === 'query-kvm') send({ return: { enabled: false, present: true }, id: command.id });
      else send({ return: {}, id: command.id });
      if (command.execute === 'system_powerdown') {
        log('level=info component=init msg="Shutdown complete" action=poweroff');
        setTimeout(() => process.exit(0), 100);
      }
      if (command.execute === 'quit') process.exit(0);
    }
  });
});
qmp.listen(chardevs.qmp.path);

log('BdsDxe: starting Boot0001');
setTimeout(() => {
  if (config.includes('fake: fail')) log('BERTH-FAILED reason=root-verity-or-mount');
  else log('BERTH-READY slot=a version=0.1.0 boot_ms=' + boot * 1000);
}, 300);
`;

async function setUp(t: Test): Promise<{ tools: QemuTools; image: BuiltImage; dir: string }> {
  // Unix socket paths must stay short: a directory under /tmp, not the tap fixture dir.
  const dir = await mkdtemp(join(tmpdir(), 'berth-vm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const saved = { dir: process.env.BERTH_QEMU_TEST_DIR, accel: process.env.BERTH_QEMU_ACCEL };
  process.env.BERTH_QEMU_TEST_DIR = join(dir, 'machines');
  process.env.BERTH_QEMU_ACCEL = 'tcg';
  t.teardown(() => {
    for (const [key, value] of [['BERTH_QEMU_TEST_DIR', saved.dir], ['BERTH_QEMU_ACCEL', saved.accel]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const fake = join(dir, 'fake-qemu.mjs');
  await writeFile(fake, FAKE_QEMU);
  await chmod(fake, 0o755);
  const real = await findQemuTools();
  const tools = { ...real, qemu: fake };
  const base = join(dir, 'base.qcow2');
  await createExec().run(tools.qemuImg, ['create', '-f', 'qcow2', base, '64M']);
  const image: BuiltImage = {
    dir,
    qcow2: base,
    manifest: {
      version: '0.1.0',
      profile: 'qemu',
      artifacts: {},
      partitions: [],
      verity: { rootHash: '', dataBlocks: 0, hashStartBlock: 0, salt: '' },
      rootImage: { sizeBytes: 0 },
    },
    partition: () => ({ label: 'data', index: 4, startBytes: 0, sizeBytes: 1 }),
  };
  return { tools, image, dir };
}


await t.test('boot, shell, power-off, and a second boot of the same disk', async (t) => {
  const { tools, image } = await setUp(t);
  const machine = await createMachine({ name: 'fake', image, tools, config: 'debug:\n  shell: ttyS1\n', extraDiskBytes: 1024 * 1024 });
  t.equal(machine.diskBytes, 64 * 1024 * 1024 + 1024 * 1024);
  const info = await createExec().run(tools.qemuImg, ['info', '--output=json', machine.paths.overlay]);
  t.match(JSON.parse(info.stdout), { 'virtual-size': machine.diskBytes, 'backing-filename': image.qcow2 }, 'the overlay is backed by the image');
  t.equal(await readFile(machine.paths.configFile, 'utf8'), 'debug:\n  shell: ttyS1\n');

  const vm = await machine.boot();
  const ready = await vm.waitForReady(10_000);
  t.match(ready, { slot: 'a', version: '0.1.0', bootMs: 1000 });
  t.equal(await vm.isKvm(), false);
  const shell = await vm.shell(10_000);
  t.same(await shell.run('echo hello; (exit 3)'), { exitCode: 3, output: 'hello\n' });
  t.same(await shell.run('cat'), { exitCode: 0, output: '' }, 'a command cannot read the next one from stdin');
  const { exit } = await vm.powerdown(5000);
  t.same(exit, { code: 0, signal: null });
  t.ok(await vm.waitFor(/msg="Shutdown complete"/, 1000));
  t.equal(vm.isRunning(), false);

  const again = await machine.boot();
  t.equal((await again.waitForReady(10_000)).bootMs, 2000, 'the second boot reads only its own part of the console log');
  await again.kill();
  t.match(await readFile(machine.paths.qemuLog, 'utf8'), /# boot 2: .*-no-reboot/);
  await machine.dispose({ keep: false });
  await t.rejects(access(machine.paths.dir), { code: 'ENOENT' }, 'a passing machine leaves nothing behind');
});

await t.test('BERTH-FAILED fails the wait at once; a failing machine keeps its console log', async (t) => {
  const { tools, image } = await setUp(t);
  const machine = await createMachine({ name: 'fake-fail', image, tools, config: 'fake: fail\n' });
  const vm = await machine.boot();
  await t.rejects(vm.waitForReady(10_000), { code: errorCode('QEMU_CONSOLE_FAILURE'), message: /BERTH-FAILED reason=root-verity-or-mount/ });
  await machine.dispose({ keep: true });
  t.equal(vm.isRunning(), false, 'dispose stops the VM');
  t.match(await readFile(machine.paths.consoleLog, 'utf8'), /BERTH-FAILED/);
});

await t.test('QEMU that dies at start fails boot() with its own message', async (t) => {
  const { tools, image } = await setUp(t);
  const machine = await createMachine({ name: 'fake-die', image, tools, config: 'fake: die\n' });
  await t.rejects(machine.boot(), { code: errorCode('QEMU_FAILED'), message: /exited with code 1 \(qemu-system-x86_64: -drive if=none: Could not open disk\)/ });
  await machine.dispose({ keep: false });
});

/** Holds a port on 127.0.0.1 until the test ends. */
async function takePort(t: Test, port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
  t.teardown(() => new Promise<void>((done) => server.close(() => done())));
}

await t.test('a forward port taken by another process: a given one fails the boot, a picked one (0) is picked again', async (t) => {
  const { tools, image } = await setUp(t);
  const given = await freePort();
  await takePort(t, given);
  const fixed = await createMachine({ name: 'fake-given-port', image, tools, hostForwards: [{ protocol: 'tcp', hostPort: given, guestPort: 8080 }] });
  await t.rejects(fixed.boot(), { code: errorCode('QEMU_HOST_PORT_BUSY'), message: new RegExp(`could not listen on 127\\.0\\.0\\.1:${given}/tcp \\(forwarded to guest port 8080\\): another process has that port`) });
  await fixed.dispose({ keep: false });

  const moves: string[] = [];
  const picking = await createMachine({
    name: 'fake-picked-port',
    image,
    tools,
    hostForwards: [
      { protocol: 'tcp', hostPort: 0, guestPort: 8080 },
      { protocol: 'tcp', hostPort: 0, guestPort: 7443 },
    ],
    onForwardMoved: (from, to) => moves.push(`${from.hostPort}->${to.hostPort} guest ${to.guestPort}`),
  });
  const [web, api] = picking.hostForwards;
  t.ok(web !== undefined && web.hostPort > 0 && api !== undefined && api.hostPort > 0 && web.hostPort !== api.hostPort, 'both ports picked at creation');
  await takePort(t, web?.hostPort ?? 0); // another process takes the picked port before QEMU starts
  const vm = await picking.boot();
  const [movedWeb, keptApi] = picking.hostForwards;
  t.not(movedWeb?.hostPort, web?.hostPort, 'the taken port is picked again');
  t.equal(keptApi?.hostPort, api?.hostPort, 'the free one stays');
  t.same(moves, [`${web?.hostPort}->${movedWeb?.hostPort} guest 8080`], 'the move is told');
  t.equal(vm.boot, 1, 'the boot that never started does not count');
  t.match(picking.argv().join(' '), new RegExp(`hostfwd=tcp:127\\.0\\.0\\.1:${movedWeb?.hostPort}-:8080`), 'the argv has the new port');
  await picking.dispose({ keep: false });
});

await t.test('machine names become directory names: kebab-case only', async (t) => {
  const { tools, image } = await setUp(t);
  await t.rejects(createMachine({ name: '../escape', image, tools }), { code: errorCode('QEMU_MACHINE_INVALID') });
});
