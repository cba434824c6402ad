/**
 * `berth vm test SPEC.yaml`: boots the spec's VMs (each on its own copy-on-write overlay, its
 * config validated first) and runs the checks in order, writing TAP and a one-line summary.
 * A VM whose boot or reboot failed gets its later checks reported as not run. Consoles are kept
 * under out/vm/test/<spec>/<vm>/ when anything failed. Effects: QEMU, files under that
 * directory, HTTP requests to 127.0.0.1 forwards, network hubs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../../lib/config/problems.ts';
import { BerthError, describeError } from '../../../lib/errors.ts';
import { createMachine, startNetworkHub, TIMEOUTS, privateMac, type HostForward, type Machine, type NetworkHub, type Vm } from '../../../vm/src/index.ts';
import { createHash } from 'node:crypto';
import { createApiClient, type ApiClient } from '../ctl/client.ts';
import type { VmTestCommand } from './args.ts';
import { SERVER_CERT_PATTERN } from './machine-config.ts';
import { ensureVmKeys, findImage, readMachineConfig, type VmKeys } from './machines.ts';
import { vmOutRoot } from './run.ts';
import { describeCheck, parseVmTestSpec, type SpecCheck, type SpecVm } from './spec.ts';
import { exitStatus, summaryLine, tapPoint, type CheckOutcome } from './tap.ts';

export interface VmTestIo {
  out(text: string): void;
  err(text: string): void;
  now(): Date;
}

/** A booted VM of the spec and how to reach it. */
interface Running {
  spec: SpecVm;
  machine: Machine;
  vm: Vm;
  keys: VmKeys;
  /** The guest port of the API over TCP, when it listens on one. */
  apiGuestPort: number | undefined;
  /** Resolves when this boot is ready (and its API certificate known); rejects when it failed. */
  ready: Promise<{ client?: ApiClient; detail: string }>;
  /** Why its later checks cannot run. */
  broken?: string;
}

/** Runs the spec; the exit status: 0 all passed, 1 a check failed or did not run, 2 the spec or a config is invalid. */
export async function runVmTest(command: VmTestCommand, io: VmTestIo): Promise<number> {
  const started = performance.now();
  const specFile = path.resolve(command.spec);
  let text: string;
  try {
    text = await readFile(specFile, 'utf8');
  } catch (error) {
    io.err(`berth vm test: cannot read the spec ${command.spec}: ${describeError(error)}\n`);
    return 2;
  }
  const source = path.relative(process.cwd(), specFile) || specFile;
  let spec;
  try {
    spec = parseVmTestSpec(text, source, path.dirname(specFile));
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`berth vm test: the spec is invalid:\n${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const root = path.join(vmOutRoot(), 'test', path.basename(specFile).replace(/\.ya?ml$/, '').replace(/[^a-z0-9-]/gi, '-').toLowerCase());

  // Every config is checked before any QEMU starts.
  const prepared = new Map<string, { text: string; apiPort?: number; keys: VmKeys }>();
  let invalid = false;
  for (const vm of spec.vms) {
    const keys = await ensureVmKeys(path.join(root, 'keys'), io.now());
    try {
      const config = await readMachineConfig(vm.config, keys.caPem);
      for (const warning of config.warnings) io.err(`warning: ${warning}\n`);
      prepared.set(vm.name, { text: config.text, ...(config.apiPort === undefined ? {} : { apiPort: config.apiPort }), keys });
    } catch (error) {
      if (!(error instanceof ConfigError || (error instanceof BerthError && error.code === 'CONFIG_UNREADABLE'))) throw error;
      io.err(`berth vm test: VM ${vm.name}: refusing to boot, its machine config is invalid:\n${error.message}\n`);
      invalid = true;
    }
  }
  if (invalid) return 2;

  io.out('TAP version 14\n');
  const hubs = new Map<string, NetworkHub>();
  const running = new Map<string, Running>();
  const outcomes: CheckOutcome[] = [];
  try {
    for (const vmSpec of spec.vms) {
      const config = prepared.get(vmSpec.name);
      if (!config) continue;
      // Port 0 is any free port: the machine picks it (again, should another process take it first).
      const forwards: HostForward[] = vmSpec.forwards.map((f) => ({ protocol: f.protocol, hostPort: f.hostPort, guestPort: f.guestPort }));
      if (config.apiPort !== undefined && !forwards.some((f) => f.protocol === 'tcp' && f.guestPort === config.apiPort)) forwards.push({ protocol: 'tcp', hostPort: 0, guestPort: config.apiPort });
      let hub: NetworkHub | undefined;
      if (vmSpec.network !== undefined) {
        hub = hubs.get(vmSpec.network) ?? (await startNetworkHub());
        hubs.set(vmSpec.network, hub);
      }
      const machine = await createMachine({
        name: vmSpec.name,
        dir: path.join(root, vmSpec.name),
        image: await findImage(vmSpec.image),
        config: config.text,
        hostForwards: forwards,
        ...(vmSpec.memoryMiB === undefined ? {} : { memoryMiB: vmSpec.memoryMiB }),
        ...(vmSpec.cpus === undefined ? {} : { cpus: vmSpec.cpus }),
        ...(hub && vmSpec.network !== undefined
          ? { privateNics: [{ hubPort: hub.port, mac: privateMac(vmSpec.network, vmSpec.name, (t) => createHash('sha256').update(t).digest()) }] }
          : {}),
      });
      const drives = vmSpec.drives.map((d) => ({ file: d.file, kind: d.kind }));
      const vm = await machine.boot({ extraDrives: drives });
      io.out(`# ${vmSpec.name}: ${machine.accel}, console ${path.relative(process.cwd(), machine.paths.consoleLog)}, forwards ${machine.hostForwards.map((f) => `127.0.0.1:${f.hostPort}->${f.guestPort}`).join(' ') || 'none'}\n`);
      const entry: Running = { spec: vmSpec, machine, vm, keys: config.keys, apiGuestPort: config.apiPort, ready: whenReady(vm, hostPortOf(machine, config.apiPort), config.keys) };
      entry.ready.catch(() => undefined);
      running.set(vmSpec.name, entry);
    }

    for (const [i, check] of spec.checks.entries()) {
      const target = running.get(check.vm);
      let outcome: CheckOutcome;
      if (!target) outcome = { status: 'not-run', reason: `VM ${check.vm} did not start` };
      else if (target.broken !== undefined) outcome = { status: 'not-run', reason: target.broken };
      else {
        try {
          outcome = { status: 'passed', ...(await runCheck(check, target)) };
        } catch (error) {
          outcome = { status: 'failed', message: describeError(error) };
          if (check.kind === 'ready' || check.kind === 'reboot') target.broken = `${check.vm}'s ${check.kind} check (${i + 1}) failed`;
        }
      }
      outcomes.push(outcome);
      io.out(tapPoint(i + 1, describeCheck(check), outcome, check.line, source));
    }
  } catch (error) {
    io.out(`Bail out! ${describeError(error).replace(/\n/g, ' ')}\n`);
    while (outcomes.length < spec.checks.length) outcomes.push({ status: 'not-run', reason: 'the run stopped' });
  } finally {
    const failed = exitStatus(outcomes) !== 0;
    for (const r of running.values()) {
      await r.machine.dispose({ keep: failed || command.keep });
      if (failed || command.keep) io.out(`# ${r.spec.name}: console kept in ${path.relative(process.cwd(), r.machine.paths.consoleLog)}\n`);
    }
    for (const hub of hubs.values()) await hub.close();
  }
  io.out(`1..${spec.checks.length}\n`);
  io.out(summaryLine(source, outcomes, performance.now() - started));
  return exitStatus(outcomes);
}

/** The port on 127.0.0.1 forwarded to this TCP port of the guest (the machine's: a boot may have moved a picked one). */
function hostPortOf(machine: Machine, guestPort: number | undefined): number | undefined {
  return machine.hostForwards.find((f) => f.protocol === 'tcp' && f.guestPort === guestPort)?.hostPort;
}

/** Waits for BERTH-READY on this boot, then the API certificate line when the API listens. */
async function whenReady(vm: Vm, apiHostPort: number | undefined, keys: VmKeys): Promise<{ client?: ApiClient; detail: string }> {
  const ready = await vm.waitForReady(TIMEOUTS.bootMs);
  const detail = `slot ${ready.slot}, version ${ready.version}, ${Math.round(ready.wallMs / 1000)} s`;
  if (apiHostPort === undefined) return { detail };
  const cert = await vm.waitFor(SERVER_CERT_PATTERN, 30_000);
  const client = createApiClient({ kind: 'https', host: '127.0.0.1', port: apiHostPort, certFile: keys.cert, keyFile: keys.key, serverSha256: cert.match[1] ?? '' });
  return { client, detail };
}

async function apiOf(target: Running): Promise<ApiClient> {
  const { client } = await target.ready;
  if (!client) throw new BerthError('VM_TEST_NO_API', `VM ${target.spec.name} has no API on TCP: its config sets api without listen; set api.listen or leave api out (berth vm test adds it)`);
  return client;
}

function json(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

async function runCheck(check: SpecCheck, target: Running): Promise<{ detail?: string }> {
  switch (check.kind) {
    case 'ready':
      return { detail: (await target.ready).detail };
    case 'reboot': {
      const api = await apiOf(target);
      const answer = await api.request('POST', '/v1/power/reboot', { body: '{}', contentType: 'application/json' });
      if (answer.status !== 202) throw new BerthError('VM_TEST_CHECK_FAILED', `POST /v1/power/reboot answered ${answer.status}: ${answer.body.trim()}`);
      // QEMU runs with -no-reboot: the guest's reboot ends it, and the same disk boots again.
      await target.vm.waitForExit(TIMEOUTS.bootMs);
      target.vm = await target.machine.boot();
      target.ready = whenReady(target.vm, hostPortOf(target.machine, target.apiGuestPort), target.keys);
      return { detail: `boot ${target.vm.boot}: ${(await target.ready).detail}` };
    }
    case 'containers': {
      const api = await apiOf(target);
      const deadline = performance.now() + check.timeoutMs;
      let last = 'no answer yet';
      for (;;) {
        const answer = await api.request('GET', '/v1/containers').catch((error: unknown) => ({ status: 0, body: describeError(error) }));
        const list = (json(answer.body) as { containers?: Array<{ name: string; state: string; health: string | null }> } | undefined)?.containers;
        if (answer.status === 200 && list) {
          const find = (name: string) => list.find((c) => c.name === name);
          const missing = [...check.running, ...check.healthy].filter((n) => !find(n));
          if (missing.length > 0) throw new BerthError('VM_TEST_CHECK_FAILED', `No container ${missing.join(', ')} on ${target.spec.name} (it has ${list.map((c) => c.name).join(', ') || 'none'})`);
          const bad = [
            ...check.running.filter((n) => find(n)?.state !== 'running').map((n) => `${n} is ${find(n)?.state}`),
            ...check.healthy.filter((n) => find(n)?.health !== 'healthy').map((n) => `${n} is ${find(n)?.state}, health ${find(n)?.health ?? 'none (no health check)'}`),
          ];
          if (bad.length === 0) return { detail: list.map((c) => `${c.name} ${c.state}${c.health ? `/${c.health}` : ''}`).join(', ') };
          last = bad.join('; ');
        } else last = `GET /v1/containers answered ${answer.status}: ${answer.body.trim().slice(0, 200)}`;
        if (performance.now() > deadline) throw new BerthError('VM_TEST_CHECK_FAILED', `After ${check.timeoutMs / 1000} s: ${last}`);
        await sleep(2000);
      }
    }
    case 'http': {
      await target.ready;
      const hostPort = hostPortOf(target.machine, check.port);
      if (hostPort === undefined) throw new BerthError('VM_TEST_CHECK_FAILED', `Guest port ${check.port} is not forwarded`);
      const url = `http://127.0.0.1:${hostPort}${check.path}`;
      const deadline = performance.now() + check.timeoutMs;
      let last = 'no answer';
      for (;;) {
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
          const body = await response.text();
          if (response.status === check.status && (check.body === undefined || body.includes(check.body))) return { detail: `${url} answered ${response.status}` };
          last = `${response.status} with body ${JSON.stringify(body.length > 300 ? `${body.slice(0, 300)}…` : body)}`;
        } catch (error) {
          last = describeError(error);
        }
        if (performance.now() > deadline) {
          throw new BerthError(
            'VM_TEST_CHECK_FAILED',
            `GET ${url} (guest port ${check.port}): expected ${check.status}${check.body === undefined ? '' : ` with a body containing ${JSON.stringify(check.body)}`}; the last answer after ${check.timeoutMs / 1000} s was ${last}`,
          );
        }
        await sleep(1000);
      }
    }
    case 'exec': {
      const api = await apiOf(target);
      const answer = await api.request('POST', `/v1/containers/${encodeURIComponent(check.container)}/exec`, {
        body: JSON.stringify({ argv: check.command, timeout_s: Math.ceil(check.timeoutMs / 1000) }),
        contentType: 'application/json',
        answerTimeoutMs: check.timeoutMs + 10_000,
      });
      if (answer.status !== 200) throw new BerthError('VM_TEST_CHECK_FAILED', `Exec in ${check.container} answered ${answer.status}: ${answer.body.trim().slice(0, 300)}`);
      const result = json(answer.body) as { exit_code: number; stdout: string; stderr: string };
      const problems: string[] = [];
      if (result.exit_code !== check.exitCode) problems.push(`exited ${result.exit_code}, expected ${check.exitCode}`);
      if (check.stdout !== undefined && !result.stdout.includes(check.stdout)) problems.push(`stdout does not contain ${JSON.stringify(check.stdout)}`);
      if (problems.length > 0) {
        throw new BerthError('VM_TEST_CHECK_FAILED', `${check.command.join(' ')} ${problems.join(', ')}; stdout ${JSON.stringify(result.stdout.slice(0, 300))}, stderr ${JSON.stringify(result.stderr.slice(0, 300))}`);
      }
      return { detail: `exit ${result.exit_code}` };
    }
  }
}
