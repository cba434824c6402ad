// `npm start` after scripts/start.sh has built the demo image: boots it through `berth vm run`
// (the same code as `npx berth vm run`: config validated, console on this terminal, forwards on
// 127.0.0.1, the API's client certificate made and the `berth ctl` line printed) with the demo
// machine config (examples/web/config.yaml: busybox httpd published on port 8080, health-checked),
// and says which URL to open once the web container answers. Arguments are those of
// `berth vm run`; `--config FILE` boots your own config instead of the demo's.
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseVmRunArgs, runVm } from '../cli/src/index.ts';
import { BerthError, describeError } from '../lib/errors.ts';
import { containersImageDir, freePort, REPO_ROOT } from '../vm/src/index.ts';

/** The guest port the demo config publishes its web server on. */
const DEMO_GUEST_PORT = 8080;

function say(text: string): void {
  // \r\n: while QEMU owns the terminal it is in raw mode.
  process.stderr.write(`${text.replace(/\n/g, '\r\n')}\r\n`);
}

/** `port` on 127.0.0.1 when it is free, else any free port. */
async function preferredPort(port: number): Promise<number> {
  const isFree = await new Promise<boolean>((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
  return isFree ? port : freePort();
}

/** Polls `url` until it answers 200 (or `stop` resolves), then prints it. */
async function announceWhenServing(url: string, stop: Promise<unknown>): Promise<void> {
  let stopped = false;
  void stop.finally(() => (stopped = true));
  while (!stopped) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      if (response.ok) {
        say(`\nnpm start: the demo's web container answers on ${url} (${JSON.stringify(body.trim().slice(0, 60))}): open it in a browser, or: curl ${url}`);
        return;
      }
    } catch {
      // Not up yet: QEMU's forward accepts and then drops the connection until the guest listens.
    }
    await sleep(2000);
  }
}

async function main(): Promise<number> {
  let command;
  try {
    command = parseVmRunArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`npm start: ${error instanceof BerthError ? error.message : describeError(error)}\n`);
    return 2;
  }
  let url: string | undefined;
  if (command.config === undefined) {
    command.config = path.join(REPO_ROOT, 'examples/web/config.yaml');
    let forward = command.forwards.find((f) => f.protocol === 'tcp' && f.guestPort === DEMO_GUEST_PORT);
    if (!forward) {
      forward = { protocol: 'tcp', hostPort: await preferredPort(DEMO_GUEST_PORT), guestPort: DEMO_GUEST_PORT };
      command.forwards.push(forward);
    }
    url = `http://127.0.0.1:${forward.hostPort}/`;
    say(`npm start: the demo host (${path.relative(process.cwd(), command.config)}): busybox httpd in container web, published on guest port ${DEMO_GUEST_PORT}, forwarded to ${url}`);
  }
  command.target ??= containersImageDir();
  command.name ??= 'demo';
  const run = runVm(command, { err: (text) => process.stderr.write(text), now: () => new Date() });
  if (url !== undefined) void announceWhenServing(url, run);
  return run;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`npm start: ${error instanceof BerthError ? error.message : describeError(error)}\n`);
  process.exitCode = 1;
}
