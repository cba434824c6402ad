import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { QmpClient, splitJsonLines } from '../../src/qmp.ts';
import { errorCode } from '../../../lib/errors.ts';

interface FakeQmp {
  path: string;
  received: Array<Record<string, unknown>>;
  server: Server;
  listen(): Promise<void>;
}

/**
 * A fake QEMU monitor: sends the greeting, then answers each command through `answer`,
 * writing its replies in small pieces so the client must reassemble lines.
 */
async function fakeQmp(
  t: Test,
  answer: (command: Record<string, unknown>, socket: Socket) => string[] | undefined,
): Promise<FakeQmp> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-qmp-'));
  const path = join(dir, 'qmp.sock');
  const received: Array<Record<string, unknown>> = [];
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    const send = (lines: string[]): void => {
      const text = lines.map((l) => `${l}\r\n`).join('');
      // Split mid-line on purpose.
      for (let i = 0; i < text.length; i += 7) socket.write(text.slice(i, i + 7));
    };
    send(['{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}']);
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const command = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        received.push(command);
        const replies = answer(command, socket);
        if (replies) send(replies);
      }
    });
    socket.on('error', () => undefined);
  });
  t.teardown(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    path,
    received,
    server,
    listen: () => new Promise((done) => server.listen(path, done)),
  };
}

const ok = (command: Record<string, unknown>, value: unknown = {}): string =>
  JSON.stringify({ return: value, id: command.id });

await t.test('splitJsonLines keeps an unfinished line', (t) => {
  t.same(splitJsonLines('{"a":1}\r\n\n{"b":'), { messages: [{ a: 1 }], rest: '{"b":' });
  t.same(splitJsonLines(''), { messages: [], rest: '' });
  t.throws(() => splitJsonLines('not json\n'), { code: errorCode('QMP_PROTOCOL') });
  t.end();
});

await t.test('handshake, commands, errors and events over a unix socket', async (t) => {
  const fake = await fakeQmp(t, (command) => {
    switch (command.execute) {
      case 'qmp_capabilities':
        return [ok(command)];
      case 'query-status':
        // An event arrives before the reply.
        return ['{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}', ok(command, { status: 'running', running: true })];
      case 'system_powerdown':
        return [ok(command), '{"timestamp": {"seconds": 3, "microseconds": 0}, "event": "POWERDOWN"}'];
      case 'query-kvm':
        return [JSON.stringify({ error: { class: 'GenericError', desc: 'no kvm here' }, id: command.id })];
      default:
        return [JSON.stringify({ error: { class: 'CommandNotFound', desc: `The command ${String(command.execute)} has not been found` }, id: command.id })];
    }
  });
  // The client retries while the socket does not exist yet, as when QEMU is still starting.
  const connecting = QmpClient.connect(fake.path, { timeoutMs: 5000 });
  await sleep(300);
  await fake.listen();
  const qmp = await connecting;
  t.teardown(() => qmp.close());
  t.same(fake.received[0], { execute: 'qmp_capabilities', id: 'berth-1' }, 'capabilities negotiated first');

  t.equal(await qmp.status(), 'running');
  t.same(qmp.events.map((e) => e.event), ['RESUME']);
  await qmp.powerdown();
  const event = await qmp.waitForEvent('POWERDOWN', 2000);
  t.same(event.timestamp, { seconds: 3, microseconds: 0 });
  await t.rejects(qmp.execute('query-kvm'), { code: errorCode('QMP_ERROR'), message: /query-kvm failed: no kvm here/ });
  await t.rejects(qmp.waitForEvent('SHUTDOWN', 100), { code: errorCode('QEMU_TIMEOUT') });
});

await t.test('replies are matched to commands by id, in any order', async (t) => {
  let held: Record<string, unknown> | undefined;
  const fake = await fakeQmp(t, (command) => {
    if (command.execute === 'qmp_capabilities') return [ok(command)];
    if (command.execute === 'first') {
      held = command;
      return undefined;
    }
    // Answer the second command, then the held first one.
    return [ok(command, 'second'), ok(held ?? {}, 'first')];
  });
  await fake.listen();
  const qmp = await QmpClient.connect(fake.path);
  t.teardown(() => qmp.close());
  const [a, b] = await Promise.all([qmp.execute('first'), qmp.execute('second', { x: 1 })]);
  t.equal(a, 'first');
  t.equal(b, 'second');
  t.same(fake.received[2], { execute: 'second', arguments: { x: 1 }, id: 'berth-3' });
});

await t.test('quit: the connection closing is the answer; later commands fail', async (t) => {
  const fake = await fakeQmp(t, (command, socket) => {
    if (command.execute === 'quit') {
      socket.end();
      return undefined;
    }
    return [ok(command)];
  });
  await fake.listen();
  const qmp = await QmpClient.connect(fake.path);
  await qmp.quit();
  await t.rejects(qmp.execute('query-status'), { code: errorCode('QMP_CLOSED') });
});

await t.test('connect gives up when QEMU is gone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-qmp-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(QmpClient.connect(join(dir, 'none.sock'), { timeoutMs: 5000, isAlive: () => false }), { code: errorCode('QEMU_EXITED') });
  await t.rejects(QmpClient.connect(join(dir, 'none.sock'), { timeoutMs: 300 }), { code: errorCode('QEMU_TIMEOUT') });
});
