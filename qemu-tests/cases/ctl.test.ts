/**
 * `berth ctl` end to end for containers and images: the real CLI on this machine talks to the
 * booted guest's management API over a hostfwd with mutual TLS (certificates from `berth keys api`,
 * the server pinned by the fingerprint init logs). One boot of the containers image (preloaded
 * busybox test image; dir from BERTH_CONTAINERS_IMAGE_DIR, default out/qemu-containers) and a
 * loopback registry reached by the guest through a guestfwd. Checks: ps lists the containers,
 * logs shows their output (tail and follow), exec returns the command's exit code and output,
 * stop and start change the state, images lists the preloaded image and who uses it, pull shows
 * progress (lines, a bar on a pty, NDJSON) and the image appears, rmi of an image in use is refused (exit 5), prune frees it.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { apiConfigSection, ctlArgv, ctlConnection, GUEST_API_PORT, makeClientKeys, runCtl, type CtlResult } from '../harness/api-client.ts';
import { runVmCase } from '../harness/case.ts';
import { busyboxEntries, containersImageDir, HOST_BUSYBOX, loadImage, REPO_ROOT, TEST_IMAGE_APPLETS, writeOciLayout } from '../../vm/src/index.ts';
import { missingRegistryTools, startRegistry } from '../harness/registry.ts';
import { freePort } from '../../lib/sys/free-port.ts';

const GUEST_REGISTRY = '10.0.2.100:5000';
const PULLED = `${GUEST_REGISTRY}/test/ctl:1`;

for (const problem of missingRegistryTools()) {
  t.fail(problem);
  process.exit(1);
}

const run = promisify(execFile);
const work = await mkdtemp(path.join(tmpdir(), 'berth-ctl-'));
t.teardown(() => rm(work, { recursive: true, force: true }));

const keys = await makeClientKeys(path.join(work, 'keys'), 'admin');

const registry = await startRegistry(path.join(work, 'registry'));
t.teardown(() => registry.stop());
const layout = path.join(work, 'layout');
await writeOciLayout(layout, {
  entries: busyboxEntries(await readFile(HOST_BUSYBOX), TEST_IMAGE_APPLETS, [{ name: 'etc/ctl-test', type: 'file', mode: 0o644, data: Buffer.from('pulled by berth ctl\n') }]),
  config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/sleep', '100000'] },
  refName: '1',
  createdBy: 'berth test suite: ctl pull image',
});
await registry.push(layout, '1', 'test/ctl:1');

const apiPort = await freePort();
const CONFIG = `hostname: ctl-test
${apiConfigSection(keys.caPem)}registries:
  "${GUEST_REGISTRY}": { insecure: true }
containers:
  talker:
    image: berth-test
    entrypoint: ["/bin/sh", "-c", "echo hello from talker; echo warming up >&2; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]
    network_mode: none
    stop_grace_period: 1s
  idle:
    image: berth-test
    entrypoint: ["/bin/sleep", "100000"]
    network_mode: none
    stop_grace_period: 1s   # sleep as PID 1 ignores SIGTERM
`;

const image = await loadImage(containersImageDir());

await runVmCase(
  t,
  'ctl',
  {
    boots: 1,
    image,
    config: CONFIG,
    hostForwards: [{ protocol: 'tcp', hostPort: apiPort, guestPort: GUEST_API_PORT }],
    guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 5000, hostPort: registry.port }],
  },
  async ({ machine }) => {
    const vm = await machine.boot();
    const ready = await vm.waitForReady();
    t.comment(`boot_ms=${ready.bootMs} api_port=${apiPort} registry_port=${registry.port}`);
    const certLine = await vm.waitFor(/msg="API server certificate" origin=generated sha256=([0-9a-f]{64})/, 30_000);
    const base = ctlConnection(apiPort, keys, certLine.match[1] ?? '');

    /** The real CLI, as an operator runs it (not a terminal: plain output). */
    const ctl = (args: string[]): Promise<CtlResult> => runCtl([...base, ...args]);
    /** Containers by name from `ps --json`. */
    const states = async (): Promise<Record<string, string>> => {
      const ps = await ctl(['ps', '--json']);
      if (ps.code !== 0) return {};
      return Object.fromEntries((JSON.parse(ps.stdout) as Array<{ name: string; state: string }>).map((c) => [c.name, c.state]));
    };
    /** Polls `ps --json` until `name` is in `state` (containers settle after READY). */
    const waitForState = async (name: string, state: string, timeoutMs = 60_000): Promise<string | undefined> => {
      const deadline = performance.now() + timeoutMs;
      let seen: string | undefined;
      while (performance.now() < deadline) {
        seen = (await states())[name];
        if (seen === state) return seen;
        await new Promise((done) => setTimeout(done, 1000));
      }
      return seen;
    };

    await t.test('ps lists the containers', async (t) => {
      t.equal(await waitForState('talker', 'running'), 'running', 'talker runs');
      t.equal(await waitForState('idle', 'running'), 'running', 'idle runs');
      const ps = await ctl(['ps']);
      t.equal(ps.code, 0, ps.stderr);
      t.match(ps.stdout, /^NAME\s+IMAGE\s+STATE\s+HEALTH\s+RESTARTS\s+UP/);
      t.match(ps.stdout, /^talker\s+berth-test\s+running\b/m);
      t.match(ps.stdout, /^idle\s+berth-test\s+running\b/m);
      t.comment(ps.stdout);
      const inspect = await ctl(['inspect', 'talker', '--json']);
      t.equal(inspect.code, 0, inspect.stderr);
      t.match(JSON.parse(inspect.stdout), { name: 'talker', state: 'running', pid: Number, started_at: String, network_mode: 'none', config: { image: 'berth-test', stop_grace_period: 1000 } });
      const missing = await ctl(['inspect', 'nope']);
      t.equal(missing.code, 4, 'an unknown container exits 4');
      t.match(missing.stderr, /No container named nope \(this host runs talker, idle\)/);
    });

    await t.test('logs shows the output, stdout and stderr apart, and follows', async (t) => {
      const all = await ctl(['logs', 'talker', '--tail', '1000']);
      t.equal(all.code, 0, 'exits 0');
      t.match(all.stdout, /^hello from talker$/m, 'the first line');
      t.match(all.stdout, /^tick \d+$/m, 'the ticks');
      t.match(all.stderr, /^warming up$/m, 'stderr output on stderr');
      const two = await ctl(['logs', 'talker', '--tail', '2', '--json']);
      const records = two.stdout.trim().split('\n').map((line) => JSON.parse(line) as { log: string; stream: string; time: string });
      t.equal(records.length, 2, '--tail 2: two records');
      t.match(records[1], { log: /^tick \d+\n$/, stream: 'stdout', time: /^\d{4}-/ });

      const child = spawn(process.execPath, ctlArgv([...base, 'logs', 'talker', '-f', '--tail', '1']), { cwd: REPO_ROOT });
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (out += chunk));
      const ticks = await new Promise<number>((resolve) => {
        const deadline = setTimeout(() => resolve(0), 30_000);
        const poll = setInterval(() => {
          const count = (out.match(/^tick \d+$/gm) ?? []).length;
          if (count >= 3) {
            clearTimeout(deadline);
            clearInterval(poll);
            resolve(count);
          }
        }, 200);
      });
      child.kill('SIGTERM');
      t.ok(ticks >= 3, `follow keeps printing new lines as they are written (saw ${ticks} ticks)`);
      const numbers = (out.match(/^tick (\d+)$/gm) ?? []).map((line) => Number(line.slice(5)));
      t.same(numbers, numbers.map((_, i) => (numbers[0] ?? 0) + i), 'in order, none missed or repeated');
    });

    await t.test('exec returns the command\'s exit code and output', async (t) => {
      const exec = await ctl(['exec', 'talker', '--', '/bin/sh', '-c', 'cat /etc/hostname; echo to-stderr >&2; exit 7']);
      t.equal(exec.code, 7, 'the exit code of the command');
      t.match(exec.stdout, /^talker$/m, 'its stdout (the container\'s hostname)');
      t.match(exec.stderr, /^to-stderr$/m, 'its stderr');
      const ok = await ctl(['exec', 'idle', '--', 'true']);
      t.equal(ok.code, 0, 'exit 0');
    });

    await t.test('stop and start change the state', async (t) => {
      const stop = await ctl(['stop', 'idle']);
      t.equal(stop.code, 0, stop.stderr);
      t.match(stop.stdout, /^Stopped idle \(stopped\)$/m);
      t.equal((await states()).idle, 'stopped', 'ps shows it stopped');
      t.equal((await states()).talker, 'running', 'the other container is untouched');
      const execStopped = await ctl(['exec', 'idle', '--', 'true']);
      t.equal(execStopped.code, 125, 'exec into a stopped container: berth ctl\'s own failure, 125');
      t.match(execStopped.stderr, /Container idle is not running \(stopped\)/);
      const again = await ctl(['stop', 'idle']);
      t.match(again.stdout, /idle was already stopped/);
      const start = await ctl(['start', 'idle']);
      t.equal(start.code, 0, start.stderr);
      t.equal(await waitForState('idle', 'running'), 'running', 'running again');
      const restart = await ctl(['restart', 'talker']);
      t.equal(restart.code, 0, restart.stderr);
      t.equal(await waitForState('talker', 'running'), 'running', 'talker running after restart');
    });

    await t.test('images lists the preloaded image and who uses it', async (t) => {
      const images = await ctl(['images']);
      t.equal(images.code, 0, images.stderr);
      t.match(images.stdout, /^docker\.io\/library\/berth-test:latest \(preloaded\)\s+[0-9a-f]{12}\s+[\d.]+ (KiB|MiB)\s+\S+\s+talker,idle$/m);
      t.comment(images.stdout);
    });

    await t.test('pull shows progress and the image appears', async (t) => {
      const pull = await ctl(['pull', PULLED]);
      t.equal(pull.code, 0, pull.stderr);
      t.match(pull.stdout, /^layer [0-9a-f]{12}: downloading [\d.]+ (B|KiB|MiB)$/m, 'a line when the layer starts');
      t.match(pull.stdout, /^layer [0-9a-f]{12}: done \([\d.]+ (B|KiB|MiB)\)$/m, 'and when it is stored');
      t.match(pull.stdout, new RegExp(`^Pulled ${PULLED.replace(/[.]/g, '\\.')} \\([0-9a-f]{12}, `, 'm'));
      t.comment(pull.stdout);
      const images = await ctl(['images', '--json']);
      const listed = JSON.parse(images.stdout) as Array<{ reference: string }>;
      t.same(listed.map((i) => i.reference).sort(), [PULLED, 'docker.io/library/berth-test:latest'].sort(), 'listed beside the preloaded image');
      t.match(listed.find((i) => i.reference === PULLED), { preloaded: false, used_by: [], size_bytes: Number, digest: /^sha256:/ }, 'used by no container');
      // On a terminal (script(1) gives the CLI a pty): one line redrawn in place, ending at 100%.
      const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
      const commandLine = [process.execPath, ...ctlArgv([...base, 'pull', PULLED])].map(quote).join(' ');
      const { stdout: onTty } = await run('/usr/bin/script', ['-qec', commandLine, '/dev/null'], { cwd: REPO_ROOT, timeout: 120_000 });
      t.match(onTty, /\r\x1b\[2K10\.0\.2\.100:5000\/test\/ctl:1 \[#+\] 100% /, 'a progress bar redrawn with carriage returns');
      t.match(onTty, /Pulled 10\.0\.2\.100:5000\/test\/ctl:1/);
      const again = await ctl(['pull', PULLED, '--json']);
      const events = again.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; status?: string });
      t.ok(events.filter((e) => e.event === 'progress').every((e) => e.status === 'exists'), 'a second pull finds every blob held (NDJSON with --json)');
      t.equal(events.at(-1)?.event, 'pulled');
    });

    await t.test('rmi of an image in use is refused; prune frees the unused one', async (t) => {
      const inUse = await ctl(['rmi', 'berth-test']);
      t.equal(inUse.code, 5, 'refused for its state: exit 5');
      t.match(inUse.stderr, /Image docker\.io\/library\/berth-test:latest is used by container talker, idle; remove it from the machine config first \[RUNTIME_IMAGE_IN_USE\]/);
      const prune = await ctl(['prune', '--json']);
      t.equal(prune.code, 0, prune.stderr);
      const result = JSON.parse(prune.stdout) as { removed_images: string[]; removed_blobs: number; freed_bytes: number };
      t.same(result.removed_images, [PULLED], 'the pulled image no container uses');
      t.ok(result.removed_blobs >= 2 && result.freed_bytes > 0, `blobs removed and bytes freed (${result.freed_bytes})`);
      const images = await ctl(['images', '--json']);
      t.same((JSON.parse(images.stdout) as Array<{ reference: string }>).map((i) => i.reference), ['docker.io/library/berth-test:latest'], 'only the preloaded image is left');
      const nothing = await ctl(['prune']);
      t.match(nothing.stdout, /^Pruned: 0 blobs and 0 layers deleted, 0 B freed$/m, 'a second prune frees nothing');
      t.equal((await states()).talker, 'running', 'the containers kept running');
    });
  },
);
