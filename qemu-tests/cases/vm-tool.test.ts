/**
 * The user-facing VM tool and `npm start`, end to end as a user runs them: the real CLI as child
 * processes. `berth vm test examples/web/test.yaml` passes (TAP, exit 0); a copy of the spec with a
 * wrong expected body fails (exit 1) naming the check, the expected and the received body, and
 * keeps the console; `npm start` (scripts/start.sh under a pty from `script`, the install and
 * build steps skipped with BERTH_START_SKIP_BUILD=1) boots the demo until its web container
 * answers on the printed URL and the printed `berth ctl` line reaches the API, then leaves QEMU
 * with Ctrl-A X. The three boots run side by side (three QEMUs: about 3x a boot's CPU, on two
 * host cores). Image: out/qemu-containers (the spec's and npm start's).
 */
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { REPO_ROOT, TIMEOUTS } from '../../vm/src/index.ts';

const SPEC = path.join(REPO_ROOT, 'examples/web/test.yaml');
const BERTH = path.join(REPO_ROOT, 'bin/berth.js');
const LIMIT_MS = TIMEOUTS.bootMs + 240_000;

for (const image of ['out/qemu-containers']) {
  try {
    await access(path.join(REPO_ROOT, image, 'manifest.json'));
  } catch {
    t.fail(`No image in ${image}: build it first (npm test's scripts/test.sh and npm start do)`);
    process.exit(1);
  }
}

const work = await mkdtemp(path.join(tmpdir(), 'berth-vm-tool-'));
t.teardown(() => rm(work, { recursive: true, force: true }));
t.setTimeout(LIMIT_MS + 60_000);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` to its end (killed after LIMIT_MS), with BERTH_VM_DIR under this file's directory. */
function run(argv: string[], vmDir: string): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: REPO_ROOT, env: { ...process.env, BERTH_VM_DIR: vmDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), LIMIT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** The example spec with a wrong expected body (and a short timeout for that check), its paths made absolute. */
async function wrongBodySpec(): Promise<string> {
  const original = await readFile(SPEC, 'utf8');
  const edits: Array<[string, string]> = [
    ['image: ../../out/qemu-containers', `image: ${path.join(REPO_ROOT, 'out/qemu-containers')}`],
    ['config: config.yaml', `config: ${path.join(REPO_ROOT, 'examples/web/config.yaml')}`],
    ['body: hello from berth }', 'body: goodbye from berth, timeout: 5s }'],
  ];
  let text = original;
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`examples/web/test.yaml no longer contains '${from}': update this test`);
    text = text.replace(from, to);
  }
  const file = path.join(work, 'web-wrong-body.yaml');
  await writeFile(file, text);
  return file;
}

interface StartRun {
  url?: string;
  ctl?: string;
  answered?: string;
  ctlStatus?: Ran;
  code: number | null;
  output: string;
}

/**
 * `npm start`'s script under a pty: waits for the URL line, fetches it, runs the printed
 * `berth ctl` line, then types Ctrl-A X and waits for the end.
 */
function runStart(vmDir: string): Promise<StartRun> {
  return new Promise((done, fail) => {
    const child = spawn('/usr/bin/script', ['-qefc', 'bash scripts/start.sh', '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, BERTH_VM_DIR: vmDir, BERTH_START_SKIP_BUILD: '1', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const result: StartRun = { code: null, output: '' };
    let leaving = false;
    const leave = () => {
      if (leaving) return;
      leaving = true;
      child.stdin.write('\x01x');
    };
    const onOutput = (chunk: Buffer) => {
      result.output += chunk.toString();
      const ctl = /(berth ctl --host https:\/\/127\.0\.0\.1:\d+ --cert \S+ --key \S+ --server-sha256 [0-9a-f]{64} status)/.exec(result.output)?.[1];
      if (ctl !== undefined) result.ctl ??= ctl;
      const url = /the demo's web container answers on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(result.output)?.[1];
      if (url !== undefined && result.url === undefined && result.ctl !== undefined) {
        result.url = url;
        void (async () => {
          try {
            result.answered = await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
            const words = (result.ctl as string).split(' ').slice(1);
            result.ctlStatus = await run([process.execPath, BERTH, ...words], vmDir);
          } catch (error) {
            result.answered = `fetch failed: ${String(error)}`;
          } finally {
            leave();
          }
        })();
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const timer = setTimeout(leave, LIMIT_MS);
    // Ctrl-A X typed but QEMU still running after a minute: stop it.
    const killer = setTimeout(() => child.kill('SIGTERM'), LIMIT_MS + 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(killer);
      result.code = code;
      done(result);
    });
  });
}

const started = performance.now();
const wrongSpec = await wrongBodySpec();
const [passing, failing, start] = await Promise.all([
  run([process.execPath, BERTH, 'vm', 'test', 'examples/web/test.yaml'], path.join(work, 'vm-a')),
  run([process.execPath, BERTH, 'vm', 'test', wrongSpec], path.join(work, 'vm-b')),
  runStart(path.join(work, 'vm-c')),
]);
t.comment(`three boots side by side in ${Math.round((performance.now() - started) / 1000)} s`);

void t.test('berth vm test examples/web/test.yaml passes: TAP, a PASS summary, exit 0', (t) => {
  const out = passing.stdout;
  t.equal(passing.code, 0, passing.code === 0 ? 'exit 0' : `exit 0 (stderr: ${passing.stderr.slice(-500)}; stdout: ${out.slice(-1500)})`);
  t.match(out, /^TAP version 14\n/, 'TAP version 14 first');
  t.match(out, /^ok 1 - web: ready \(BERTH-READY on the console\)/m);
  t.match(out, /^ok 2 - web: containers web healthy/m);
  t.match(out, /^ok 3 - web: http GET guest port 8080\/ answers 200 with "hello from berth"/m);
  t.match(out, /^ok 4 - web: exec in web: cat \/var\/www\/index\.html exits 0 printing "hello from berth"/m);
  t.notMatch(out, /^not ok/m, 'no failed check');
  t.match(out, /^1\.\.4$/m, 'the plan');
  t.match(out, /^# PASS berth vm test examples\/web\/test\.yaml: 4 passed, 0 failed, 0 not run \(\d+ s\)\n$/m, 'the summary last');
  t.end();
});

void t.test('a wrong expected body fails the http check: exit 1, the check, both bodies, the console kept', async (t) => {
  const out = failing.stdout;
  t.equal(failing.code, 1, failing.code === 1 ? 'exit 1' : `exit 1 (stderr: ${failing.stderr.slice(-500)}; stdout: ${out.slice(-1500)})`);
  t.match(out, /^ok 1 - web: ready/m, 'the boot passed');
  t.match(out, /^ok 2 - web: containers web healthy/m);
  t.match(out, /^not ok 3 - web: http GET guest port 8080\/ answers 200 with "goodbye from berth"\n {2}---\n/m, 'the failed check named');
  t.match(out, /expected 200 with a body containing "goodbye from berth"; the last answer after 5 s was 200 with body "hello from berth(\\n)?"/, 'expected and received bodies');
  t.match(out, new RegExp(`^ {2}at: .*web-wrong-body\\.yaml:\\d+$`, 'm'), 'the line of the check in the spec');
  t.match(out, /^ok 4 - web: exec in web/m, 'a failed check does not stop the others');
  t.match(out, /^# FAIL berth vm test .*web-wrong-body\.yaml: 3 passed, 1 failed, 0 not run \(\d+ s\)\n$/m, 'the summary last');
  const kept = /^# web: console kept in (\S+)$/m.exec(out)?.[1];
  t.ok(kept, 'the console kept');
  if (kept !== undefined) t.match(await readFile(path.resolve(REPO_ROOT, kept), 'utf8'), /BERTH-READY slot=a/, 'the kept console has the boot');
});

void t.test('npm start boots the demo: the web container answers on the printed URL, the ctl line works, Ctrl-A X leaves', (t) => {
  const out = start.output;
  const tail = out.slice(-1500);
  t.match(out, /npm start: the demo host \(examples\/web\/config\.yaml\): busybox httpd in container web/, 'what it boots');
  t.match(out, /berth vm: booting berth 0\.1\.0 \(/, 'through berth vm run');
  t.match(out, /BERTH-READY slot=a/, 'the console on the terminal');
  t.match(out, /containers +web \(running, healthy\)/, 'the banner shows web healthy');
  t.match(out, /msg="Container health changed" container=web health=healthy/, 'web becomes healthy');
  t.ok(result(start.ctl), `the berth ctl line printed (output tail: ${tail})`);
  t.ok(result(start.url), 'the URL printed');
  t.match(start.answered ?? '', /hello from berth/, 'the URL answers with the page');
  t.equal(start.ctlStatus?.code, 0, `the printed berth ctl line answers (${start.ctlStatus?.stderr.slice(-300) ?? 'not run'})`);
  t.match(start.ctlStatus?.stdout ?? '', /^Host +web-demo \(running\)/m, 'berth ctl status shows the demo host');
  t.match(out, /berth vm: QEMU ended \(code 0\)/, 'Ctrl-A X ends QEMU');
  t.equal(start.code, 0, 'npm start exits 0');
  t.end();
});

function result(value: string | undefined): boolean {
  return value !== undefined && value.length > 0;
}
