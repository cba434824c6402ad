/**
 * The VM runner of the QEMU tests. A Machine is one test's disk (a copy-on-write overlay
 * of the built image), firmware variables and console log under out/qemu-tests/<name>/;
 * each boot() of it is a Vm: a QEMU process, its console reader, QMP and debug shell.
 * Effects: spawns qemu-system-x86_64 (never through a shell), qemu-img and qemu-io, and
 * owns the files of the machine's directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../lib/errors.ts';
import { commandLine, createExec, type Exec } from '../../lib/sys/exec.ts';
import { freePort } from '../../lib/sys/free-port.ts';
import { ConsoleReader, type ConsoleMatch, type WaitOptions } from './console.ts';
import { REPO_ROOT, type BuiltImage } from './image.ts';
import { FAILED_PATTERN, PANIC_PATTERN, parseReadyLine, READY_PATTERN, type ReadyLine } from './markers.ts';
import {
  buildProbeArgv,
  buildQemuArgv,
  overlayCreateArgs,
  patternWriteArgs,
  type Accelerator,
  type ExtraDrive,
  type HostForward,
  type QemuVmSpec,
  unboundHostForward,
} from './qemu-argv.ts';
import { QmpClient } from './qmp.ts';
import { DebugShell } from './shell.ts';

/** Timeouts, generous for TCG on a shared 2-core machine; env overrides in milliseconds. */
export const TIMEOUTS = {
  /** From QEMU start to BERTH-READY. */
  bootMs: Number(process.env.BERTH_QEMU_BOOT_TIMEOUT_MS ?? 240_000),
  /** From BERTH-READY to the debug shell answering. */
  shellMs: 60_000,
  /** From system_powerdown to QEMU's exit (the issue's limit). */
  powerdownMs: 30_000,
} as const;

export interface QemuTools {
  qemu: string;
  qemuImg: string;
  qemuIo: string;
  firmwareCode: string;
  firmwareVars: string;
}

const INSTALL_HINT = 'install it with `apt-get install qemu-system-x86 qemu-utils ovmf`';

/** The host tools the tests need; a missing one is a failure naming the package. */
export async function findQemuTools(env: NodeJS.ProcessEnv = process.env): Promise<QemuTools> {
  const tools: QemuTools = {
    qemu: env.BERTH_QEMU ?? '/usr/bin/qemu-system-x86_64',
    qemuImg: env.BERTH_QEMU_IMG ?? '/usr/bin/qemu-img',
    qemuIo: env.BERTH_QEMU_IO ?? '/usr/bin/qemu-io',
    firmwareCode: env.BERTH_OVMF_CODE ?? '/usr/share/OVMF/OVMF_CODE_4M.fd',
    firmwareVars: env.BERTH_OVMF_VARS ?? '/usr/share/OVMF/OVMF_VARS_4M.fd',
  };
  const missing: string[] = [];
  for (const [key, path] of Object.entries(tools) as Array<[keyof QemuTools, string]>) {
    const mode = key.startsWith('firmware') ? constants.R_OK : constants.X_OK;
    try {
      await access(path, mode);
    } catch {
      missing.push(path);
    }
  }
  if (missing.length > 0) {
    throw new BerthError('QEMU_TOOL_MISSING', `Missing ${missing.join(', ')}: ${INSTALL_HINT}`);
  }
  return tools;
}

/** The root of the tests' working directories; BERTH_QEMU_TEST_DIR overrides. */
export function testOutRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BERTH_QEMU_TEST_DIR ?? join(REPO_ROOT, 'out', 'qemu-tests'));
}

let detected: Promise<Accelerator> | undefined;

/** QEMU processes still running; killed when this process exits so no VM outlives its test. */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/**
 * KVM when it really runs guest code here, TCG otherwise (BERTH_QEMU_ACCEL=kvm|tcg skips
 * the probe). A usable /dev/kvm is not enough: on some hosts QEMU opens it and then aborts
 * setting an MSR for `-cpu max`, or the vCPU fails on its first instructions, and QEMU
 * does not fall back to the next -accel when that happens. So the probe boots the firmware
 * under KVM and waits for its banner on the serial line.
 */
export function detectAccelerator(tools: QemuTools, workDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Accelerator> {
  const forced = env.BERTH_QEMU_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced);
  detected ??= probeKvm(tools, workDir);
  return detected;
}

async function probeKvm(tools: QemuTools, workDir: string): Promise<Accelerator> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  // A directory of this probe's own: several processes may probe at once (berth vm test and npm
  // start side by side), and a shared one was emptied under another's feet.
  await mkdir(workDir, { recursive: true });
  const dir = await mkdtemp(join(workDir, '.kvm-probe-'));
  const vars = join(dir, 'OVMF_VARS.fd');
  const log = join(dir, 'console.log');
  await copyFile(tools.firmwareVars, vars);
  const child = spawn(tools.qemu, buildProbeArgv({ accel: 'kvm', firmwareCode: tools.firmwareCode, firmwareVars: vars, consoleLog: log }), {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: {},
  });
  liveChildren.add(child);
  let exited = false;
  const exit = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));
  child.once('error', () => (exited = true));
  const reader = new ConsoleReader(log, { isWriterDone: () => exited });
  let works = false;
  try {
    await reader.waitFor(/UEFI v\d|BdsDxe|Shell>/, 20_000);
    works = true;
  } catch {
    works = false;
  } finally {
    await reader.close();
    if (!exited) child.kill('SIGKILL');
    await exit;
    liveChildren.delete(child);
    await rm(dir, { recursive: true, force: true });
  }
  return works ? 'kvm' : 'tcg';
}

/** A boot disk without a build manifest: a copied disk.qcow2 or disk.raw. */
export interface DiskFile {
  disk: string;
  format: 'qcow2' | 'raw';
}

/** The base disk and its format, of a built image or a bare disk file. */
export function baseDisk(image: BuiltImage | DiskFile): DiskFile {
  return 'manifest' in image ? { disk: image.qcow2, format: 'qcow2' } : image;
}

/** The test's machine: its disk and config here, memory, CPUs and forwards as QEMU takes them. */
export interface MachineOptions extends Pick<QemuVmSpec, 'memoryMiB' | 'cpus' | 'guestForwards' | 'privateNics'> {
  /**
   * Ports on 127.0.0.1 forwarded to the guest. A hostPort of 0 is any free port: picked when the
   * machine is created, and picked again when another process takes it before QEMU binds it
   * (`hostForwards` on the machine tells which). A given port that is taken fails the boot with
   * QEMU_HOST_PORT_BUSY.
   */
  hostForwards?: readonly HostForward[];
  /** Told when a boot moved a forward of hostPort 0 to another port because its port was taken. */
  onForwardMoved?: (from: HostForward, to: HostForward) => void;
  /** The machine's name: its directory is out/qemu-tests/<name>/ unless `dir` is given. */
  name: string;
  image: BuiltImage | DiskFile;
  /** The machine's directory (absolute); default out/qemu-tests/<name>/. */
  dir?: string;
  /**
   * Keep the directory and boot its disk again when it has one (`berth vm run --persist`):
   * reboots and updates carry over between runs. Default: a fresh directory and overlay.
   */
  keepDisk?: boolean;
  /** Machine config (YAML) given to the guest through fw_cfg opt/berth/config. */
  config?: string;
  /** How much bigger than the image the overlay disk is, so the data partition grows. */
  extraDiskBytes?: number;
  /** The overlay's whole size instead (at least the image's size); wins over extraDiskBytes. */
  diskBytes?: number;
  tools?: QemuTools;
  exec?: Exec;
}

/** The machine config that turns on the guest's debug shell on serial 1. */
export const DEBUG_SHELL_CONFIG = 'debug:\n  shell: ttyS1\n';

export const DEFAULT_EXTRA_DISK_BYTES = 1024 * 1024 * 1024;

/** A unix socket path must fit sockaddr_un (108 bytes with the terminator). */
const MAX_SOCKET_PATH = 107;

/** Creates a fresh machine directory: firmware variables, disk overlay, config. */
export async function createMachine(options: MachineOptions): Promise<Machine> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(options.name)) {
    throw new BerthError('QEMU_MACHINE_INVALID', `Machine name ${options.name} must be kebab-case (it names a directory)`);
  }
  const tools = options.tools ?? (await findQemuTools());
  const exec = options.exec ?? createExec();
  const root = testOutRoot();
  const dir = options.dir ?? join(root, options.name);
  const overlay = join(dir, 'disk.qcow2');
  const reuse = options.keepDisk === true && (await fileSize(overlay)) > 0;
  if (options.keepDisk !== true) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const accel = await detectAccelerator(tools, root);
  const paths = {
    dir,
    overlay,
    firmwareVars: join(dir, 'OVMF_VARS.fd'),
    consoleLog: join(dir, 'console.log'),
    qemuLog: join(dir, 'qemu.log'),
    shellSocket: join(dir, 'shell.sock'),
    qmpSocket: join(dir, 'qmp.sock'),
    configFile: join(dir, 'config.yaml'),
  };
  if (paths.shellSocket.length > MAX_SOCKET_PATH) {
    throw new BerthError('QEMU_MACHINE_INVALID', `Socket path ${paths.shellSocket} is too long for a unix socket: set BERTH_QEMU_TEST_DIR to a shorter directory`);
  }
  const base = baseDisk(options.image);
  const virtualSize = async (file: string): Promise<number> => {
    const info = await exec.run(tools.qemuImg, ['info', '--output=json', file], { timeoutMs: 30_000 });
    const size = (JSON.parse(info.stdout) as { 'virtual-size'?: number })['virtual-size'];
    if (typeof size !== 'number') throw new BerthError('QEMU_IMAGE_INVALID', `qemu-img info reports no virtual size for ${file}`);
    return size;
  };
  let diskBytes: number;
  if (reuse) {
    // A kept machine boots its own disk and firmware variables again (boot entries, EFI state).
    if ((await fileSize(paths.firmwareVars)) === 0) await copyFile(tools.firmwareVars, paths.firmwareVars);
    diskBytes = await virtualSize(overlay);
  } else {
    await copyFile(tools.firmwareVars, paths.firmwareVars);
    const baseBytes = await virtualSize(base.disk);
    if (options.diskBytes !== undefined && options.diskBytes < baseBytes) {
      throw new BerthError('QEMU_MACHINE_INVALID', `Disk size ${options.diskBytes} bytes is smaller than the image's ${baseBytes} bytes (${base.disk}): give at least that`);
    }
    diskBytes = options.diskBytes ?? baseBytes + (options.extraDiskBytes ?? DEFAULT_EXTRA_DISK_BYTES);
    await exec.run(tools.qemuImg, overlayCreateArgs(resolve(base.disk), paths.overlay, diskBytes, base.format), { timeoutMs: 30_000 });
  }
  if (options.config !== undefined) await writeFile(paths.configFile, options.config);
  const hostForwards: PickedForward[] = [];
  for (const f of options.hostForwards ?? []) hostForwards.push({ ...f, picked: f.hostPort === 0, hostPort: f.hostPort === 0 ? await freePort() : f.hostPort });
  return new Machine(options, tools, exec, accel, paths, diskBytes, hostForwards);
}

/** QEMU could not listen on a forward's port on 127.0.0.1: another process has it. */
export class HostPortBusyError extends BerthError {
  readonly forward: HostForward;

  constructor(forward: HostForward) {
    super(
      'QEMU_HOST_PORT_BUSY',
      `QEMU could not listen on 127.0.0.1:${forward.hostPort}/${forward.protocol} (forwarded to guest port ${forward.guestPort}): another process has that port; stop it or forward another port (0 picks a free one)`,
    );
    this.forward = forward;
  }
}

/** A host forward with its port; `picked` when berth chose the port (the option said 0). */
interface PickedForward extends HostForward {
  picked: boolean;
}

/** Boots that fail because a picked port was taken meanwhile are tried again this often, each with a new port. */
const PORT_PICK_ATTEMPTS = 5;

/** Differences of one boot from the machine's options. */
export interface BootOverrides {
  /** Drives attached beside the boot disk for this boot only. */
  extraDrives?: readonly ExtraDrive[];
  /** No fw_cfg machine config this boot (the guest finds its config elsewhere). */
  withoutConfig?: boolean;
  /** The console on this terminal (and in the log), Ctrl-A X to leave; guest reboots stay in QEMU. */
  interactive?: boolean;
}

export interface MachinePaths {
  dir: string;
  overlay: string;
  firmwareVars: string;
  consoleLog: string;
  qemuLog: string;
  shellSocket: string;
  qmpSocket: string;
  configFile: string;
}

export class Machine {
  readonly name: string;
  readonly image: BuiltImage | DiskFile;
  readonly accel: Accelerator;
  readonly paths: MachinePaths;
  /** The overlay's virtual size: the disk size the guest sees. */
  readonly diskBytes: number;
  #options: MachineOptions;
  #tools: QemuTools;
  #exec: Exec;
  #current: Vm | undefined;
  #boots = 0;
  #hostForwards: PickedForward[];

  constructor(options: MachineOptions, tools: QemuTools, exec: Exec, accel: Accelerator, paths: MachinePaths, diskBytes: number, hostForwards: PickedForward[]) {
    this.name = options.name;
    this.image = options.image;
    this.accel = accel;
    this.paths = paths;
    this.diskBytes = diskBytes;
    this.#options = options;
    this.#tools = tools;
    this.#exec = exec;
    this.#hostForwards = hostForwards;
  }

  /** The host forwards with their ports on 127.0.0.1 (those given as 0 as picked; a boot may move one, see MachineOptions). */
  get hostForwards(): HostForward[] {
    return this.#hostForwards.map(({ protocol, hostPort, guestPort }) => ({ protocol, hostPort, guestPort }));
  }

  /** The qemu-system-x86_64 argv of this machine (without the binary); `boot` overrides the machine's options for one boot. */
  argv(boot: BootOverrides = {}): string[] {
    const o = { ...this.#options, ...(boot.withoutConfig === true ? { config: undefined } : {}) };
    return buildQemuArgv({
      name: `berth-test-${this.name}`,
      accel: this.accel,
      firmwareCode: this.#tools.firmwareCode,
      firmwareVars: this.paths.firmwareVars,
      disk: this.paths.overlay,
      consoleLog: this.paths.consoleLog,
      shellSocket: this.paths.shellSocket,
      qmpSocket: this.paths.qmpSocket,
      ...(o.config === undefined ? {} : { configFile: this.paths.configFile }),
      ...(o.memoryMiB === undefined ? {} : { memoryMiB: o.memoryMiB }),
      ...(o.cpus === undefined ? {} : { cpus: o.cpus }),
      ...(this.#hostForwards.length === 0 ? {} : { hostForwards: this.hostForwards }),
      ...(o.guestForwards === undefined ? {} : { guestForwards: o.guestForwards }),
      ...(o.privateNics === undefined ? {} : { privateNics: o.privateNics }),
      ...(boot.interactive === true ? { interactive: true } : {}),
      ...(boot.extraDrives === undefined ? {} : { extraDrives: boot.extraDrives }),
    });
  }

  /**
   * Starts QEMU on this machine's disk. Only one boot runs at a time. A port picked for a forward
   * (hostPort 0) and taken by another process since is picked again, and QEMU started again.
   */
  async boot(overrides: BootOverrides = {}): Promise<Vm> {
    if (this.#current?.isRunning()) {
      throw new BerthError('QEMU_MACHINE_BUSY', `Machine ${this.name} is still running; stop it before booting again`);
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#startQemu(overrides);
      } catch (error) {
        const taken = error instanceof HostPortBusyError ? error.forward : undefined;
        const forward = this.#hostForwards.find((f) => f.picked && f.protocol === taken?.protocol && f.hostPort === taken.hostPort);
        if (!forward || attempt >= PORT_PICK_ATTEMPTS) throw error;
        this.#boots -= 1; // the boot that never started does not count
        const from = { protocol: forward.protocol, hostPort: forward.hostPort, guestPort: forward.guestPort };
        forward.hostPort = await freePort();
        this.#options.onForwardMoved?.(from, { ...from, hostPort: forward.hostPort });
      }
    }
  }

  async #startQemu(overrides: BootOverrides): Promise<Vm> {
    this.#boots += 1;
    await rm(this.paths.shellSocket, { force: true });
    await rm(this.paths.qmpSocket, { force: true });
    const startOffset = await fileSize(this.paths.consoleLog);
    const argv = this.argv(overrides);
    const qemuLog = createWriteStream(this.paths.qemuLog, { flags: 'a' });
    qemuLog.write(`# boot ${this.#boots}: ${commandLine(this.#tools.qemu, argv)}\n`);
    // Interactive: QEMU owns the terminal (its console and monitor); its own messages go to the log.
    const stdio: Array<'ignore' | 'pipe' | 'inherit'> = overrides.interactive === true ? ['inherit', 'inherit', 'pipe'] : ['ignore', 'pipe', 'pipe'];
    const child = spawn(this.#tools.qemu, argv, { stdio, env: { LANG: 'C.UTF-8', ...(process.env.TERM === undefined ? {} : { TERM: process.env.TERM }) } });
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    const vm = new Vm(this, child, qemuLog, startOffset, this.#boots);
    this.#current = vm;
    await vm.connect();
    return vm;
  }

  /** Writes `length` bytes of `pattern` at `offset` of the overlay (the base stays pristine). */
  async writePattern(offset: number, length: number, pattern: number): Promise<void> {
    if (this.#current?.isRunning()) {
      throw new BerthError('QEMU_MACHINE_BUSY', `Machine ${this.name} is running; cannot write to its disk`);
    }
    await this.#exec.run(this.#tools.qemuIo, patternWriteArgs(this.paths.overlay, offset, length, pattern), { timeoutMs: 60_000 });
  }

  /** Stops any running boot; removes the directory unless `keep` (then the console log stays). */
  async dispose(options: { keep: boolean }): Promise<void> {
    if (this.#current?.isRunning()) await this.#current.kill();
    await rm(this.paths.shellSocket, { force: true });
    await rm(this.paths.qmpSocket, { force: true });
    if (!options.keep) await rm(this.paths.dir, { recursive: true, force: true });
  }
}

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One boot of a machine: a running (or finished) QEMU process. */
export class Vm {
  readonly machine: Machine;
  readonly console: ConsoleReader;
  readonly boot: number;
  /** performance.now() when QEMU was started. */
  readonly startedAt: number;
  readonly exited: Promise<VmExit>;
  #child: ChildProcess;
  #exit: VmExit | undefined;
  #stderr = '';
  #qmp: QmpClient | undefined;
  #shell: DebugShell | undefined;

  constructor(machine: Machine, child: ChildProcess, qemuLog: WriteStream, startOffset: number, boot: number) {
    this.machine = machine;
    this.boot = boot;
    this.#child = child;
    this.startedAt = performance.now();
    const keep = (chunk: Buffer): void => {
      qemuLog.write(chunk);
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => {
      child.once('error', (error) => {
        this.#stderr += `\n${error.message}`;
        this.#exit = { code: null, signal: null };
        qemuLog.end();
        done(this.#exit);
      });
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#qmp?.close();
        this.#shell?.close();
        qemuLog.end(`# boot ${boot}: QEMU exited code=${code} signal=${signal}\n`);
        // Read the console to its end, then release the file: its text stays in memory.
        void this.console
          .poll()
          .catch(() => undefined)
          .then(() => this.console.close())
          .finally(() => done(this.#exit ?? { code, signal }));
      });
    });
    this.console = new ConsoleReader(machine.paths.consoleLog, {
      startOffset,
      isWriterDone: () => this.#exit !== undefined,
      writerDoneReason: () => this.exitDescription(),
    });
  }

  isRunning(): boolean {
    return this.#exit === undefined;
  }

  /** How QEMU ended, with the tail of its own output. */
  exitDescription(): string {
    if (!this.#exit) return 'QEMU is running';
    const how = this.#exit.signal ? `was killed by ${this.#exit.signal}` : `exited with code ${this.#exit.code}`;
    const stderr = this.#stderr.trim();
    return `QEMU ${how}${stderr ? ` (${stderr.slice(-1000)})` : ''}`;
  }

  /** @internal Connects QMP; called by Machine.boot(). */
  async connect(): Promise<void> {
    try {
      this.#qmp = await QmpClient.connect(this.machine.paths.qmpSocket, { timeoutMs: 30_000, isAlive: () => this.isRunning() });
    } catch (error) {
      await this.kill();
      const unbound = unboundHostForward(this.#stderr);
      if (unbound) throw new HostPortBusyError(unbound);
      throw new BerthError('QEMU_FAILED', `QEMU did not start: ${this.exitDescription()}`, { cause: error });
    }
  }

  get qmp(): QmpClient {
    if (!this.#qmp) throw new BerthError('QEMU_FAILED', 'QMP is not connected');
    return this.#qmp;
  }

  /** Waits for `pattern` on this boot's console; fails early if QEMU exits. */
  waitFor(pattern: RegExp, timeoutMs: number, options: WaitOptions = {}): Promise<ConsoleMatch> {
    return this.console.waitFor(pattern, timeoutMs, options);
  }

  /** Waits for BERTH-READY; BERTH-FAILED or a kernel panic fails at once. */
  async waitForReady(timeoutMs: number = TIMEOUTS.bootMs): Promise<ReadyLine & { wallMs: number }> {
    const found = await this.waitFor(READY_PATTERN, timeoutMs, { failOn: [FAILED_PATTERN, PANIC_PATTERN] });
    const ready = parseReadyLine(found.match[0]);
    if (!ready) throw new BerthError('QEMU_CONSOLE_FAILURE', `Unparsable readiness line ${found.match[0]}`);
    return { ...ready, wallMs: Math.round(performance.now() - this.startedAt) };
  }

  /** The guest's debug shell, connected and answering. */
  async shell(timeoutMs: number = TIMEOUTS.shellMs): Promise<DebugShell> {
    if (this.#shell) return this.#shell;
    const shell = await DebugShell.connect(this.machine.paths.shellSocket, { isAlive: () => this.isRunning() });
    try {
      await shell.waitUntilReady(timeoutMs);
    } catch (error) {
      shell.close();
      await this.console.poll();
      const state = this.isRunning() ? 'QEMU is running' : this.exitDescription();
      throw new BerthError('QEMU_SHELL_UNAVAILABLE', `The guest debug shell on serial 1 did not answer (${state}); console:\n${this.console.tail()}`, {
        cause: error,
      });
    }
    this.#shell = shell;
    return shell;
  }

  /** Whether QEMU runs the guest under KVM (from QMP query-kvm). */
  async isKvm(): Promise<boolean> {
    const result = (await this.qmp.execute('query-kvm')) as { enabled?: boolean };
    return result.enabled === true;
  }

  /** Resolves when QEMU exits; QEMU_TIMEOUT if it is still running after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<VmExit> {
    // A cancellable timer: a pending one would keep the test process alive after QEMU exits.
    const timer = new AbortController();
    const result = await Promise.race([
      this.exited,
      sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined),
    ]).finally(() => timer.abort());
    if (result === undefined) {
      throw new BerthError('QEMU_TIMEOUT', `QEMU (${this.machine.name}, boot ${this.boot}) still running ${timeoutMs} ms later:\n${this.console.tail()}`);
    }
    await this.console.poll();
    return result;
  }

  /** Presses the ACPI power button and waits for QEMU to exit; resolves with the time it took. */
  async powerdown(timeoutMs: number = TIMEOUTS.powerdownMs): Promise<{ exit: VmExit; elapsedMs: number }> {
    const start = performance.now();
    await this.qmp.powerdown();
    const exit = await this.waitForExit(timeoutMs);
    return { exit, elapsedMs: Math.round(performance.now() - start) };
  }

  /** Ends QEMU at once (SIGKILL) and waits for it. */
  async kill(): Promise<VmExit> {
    if (this.isRunning()) this.#child.kill('SIGKILL');
    const exit = await this.exited;
    await this.console.poll().catch(() => undefined);
    await this.console.close();
    return exit;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
