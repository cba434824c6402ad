import t from 'tap';
import { guestApi, guestApiOk } from '../../harness/guest-api.ts';

/** A debug shell that records the command and prints `output`. */
function fakeShell(output: string): { check: (command: string) => Promise<string>; commands: string[] } {
  const commands: string[] = [];
  return {
    commands,
    check: (command: string) => {
      commands.push(command);
      return Promise.resolve(output);
    },
  };
}

void t.test('an answer carries its status, the uptime it was sent at and the body', async (t) => {
  const shell = fakeShell('status=200 sent_ms=12340\r\n{\r\n  "state": "exited"\r\n}\r\n');
  const answer = await guestApiOk(shell, 'POST', '/v1/containers/bench/start');
  t.same(answer, { status: 200, sentMs: 12340, body: '{\r\n  "state": "exited"\r\n}' });
  t.match(shell.commands[0], /^\/usr\/lib\/berth\/node\/bin\/node -e ".*method:'POST',path:'\/v1\/containers\/bench\/start'/);
  t.notMatch(shell.commands[0]?.slice(shell.commands[0].indexOf('"') + 1, -1) ?? '', /["$`]/, 'nothing the shell would expand inside the quotes');
});

void t.test('a refusal is returned by guestApi and thrown by guestApiOk', async (t) => {
  const shell = fakeShell('status=409 sent_ms=5\n{"error":"busy"}\n');
  t.equal((await guestApi(shell, 'POST', '/v1/update/apply')).status, 409);
  await t.rejects(guestApiOk(shell, 'POST', '/v1/update/apply'), /answered 409: \{"error":"busy"\}/);
});

void t.test('no answer, or a path it cannot quote, is an error', async (t) => {
  await t.rejects(guestApi(fakeShell('node: not found\n'), 'GET', '/v1/status'), /printed no answer/);
  await t.rejects(guestApi(fakeShell(''), 'GET', '/v1/status"; reboot'), /Not a request guestApi can quote/);
});
