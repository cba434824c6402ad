/**
 * Argument parsing of `berth vm run`, `berth vm test` and `berth config validate`. Pure: argv
 * in, a command or a CLI_USAGE error out; unknown flags are errors that say what is accepted.
 */
import { parseByteSize } from '../../../lib/config/validate.ts';
import { nextValue, usage } from '../argv.ts';

/** A host port on 127.0.0.1 forwarded to a guest port (`--forward 8080:80`, `/udp` for UDP). */
export interface ForwardArg {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  guestPort: number;
}

export interface VmRunCommand {
  kind: 'vm-run';
  /** An image directory (with manifest.json) or a disk file (.qcow2, .raw); default the built default image. */
  target?: string;
  config?: string;
  forwards: ForwardArg[];
  memoryMiB?: number;
  cpus?: number;
  diskBytes?: number;
  /** A directory that keeps the disk between runs. */
  persist?: string;
  /** A private network shared with the other VMs started with the same name. */
  network?: string;
  /** The machine's name (its directory, its MAC on a private network); default `vm`. */
  name?: string;
}

export interface VmTestCommand {
  kind: 'vm-test';
  spec: string;
  /** Keep every VM's directory, passed or not. */
  keep: boolean;
}

export interface ConfigValidateCommand {
  kind: 'config-validate';
  file: string;
}

export type VmCliCommand = VmRunCommand | VmTestCommand | ConfigValidateCommand;

export const VM_HELP = `  berth vm run [IMAGE_DIR|DISK] [--config FILE] [--forward HOST:GUEST[/udp]]... [--memory SIZE]
         [--cpus N] [--disk-size SIZE] [--persist DIR] [--network NAME] [--name NAME]
      Boot a built image (default out/qemu) under QEMU (KVM when it works, else TCG) with the
      console on this terminal; Ctrl-A X leaves. The disk is a copy-on-write overlay, or kept in
      DIR with --persist. The config goes in through fw_cfg and is validated first. Forwards
      listen on 127.0.0.1 only; the API's port (api.listen) is forwarded too and the berth ctl
      line printed. --network NAME: a second card on a private network with the other VMs
      started with the same NAME.
  berth vm test SPEC.yaml [--keep]
      Boot the VMs of a test spec and run its checks in order; TAP on stdout, a one-line
      summary last. Exit 0 when every check passed, 1 when one failed, 2 on a bad spec.
  berth config validate FILE
      Check a machine config offline: every problem with its line, warnings apart.
`;

/** `HOST:GUEST[/tcp|/udp]` with both ports 1-65535. */
export function parseForward(text: string): ForwardArg {
  const match = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  const hostPort = Number(match?.[1]);
  const guestPort = Number(match?.[2]);
  if (!match || hostPort < 1 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) {
    throw usage(`--forward '${text}': expected HOST:GUEST with ports 1-65535, e.g. 8080:80 or 5353:53/udp`);
  }
  return { protocol: match[3] === 'udp' ? 'udp' : 'tcp', hostPort, guestPort };
}

function parseSize(flag: string, text: string): number {
  const bytes = /^\d+$/.test(text) ? undefined : parseByteSize(text);
  if (bytes === undefined || bytes <= 0) throw usage(`${flag} '${text}': expected a size with a unit, e.g. 2G or 512M`);
  return bytes;
}

/** Parses the words after `berth vm`. */
export function parseVmArgs(argv: readonly string[]): VmRunCommand | VmTestCommand {
  const [what, ...rest] = argv;
  if (what === 'test') return parseVmTestArgs(rest);
  if (what !== 'run') throw usage(what === undefined ? 'berth vm needs run or test' : `Unknown vm command '${what}': expected run or test`);
  return parseVmRunArgs(rest);
}

/** Parses the words after `berth vm run` (npm start takes the same). */
export function parseVmRunArgs(rest: readonly string[]): VmRunCommand {
  const command: VmRunCommand = { kind: 'vm-run', forwards: [] };
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    const value = (): string => {
      const v = nextValue(rest, i, arg);
      i += 1;
      return v;
    };
    if (arg === '--config') command.config = value();
    else if (arg === '--forward') command.forwards.push(parseForward(value()));
    else if (arg === '--memory') {
      const text = value();
      command.memoryMiB = Math.floor(parseSize('--memory', text) / 1024 / 1024);
      if (command.memoryMiB < 256) throw usage(`--memory '${text}': at least 256M`);
    } else if (arg === '--cpus') {
      const text = value();
      const cpus = Number(text);
      if (!/^\d+$/.test(text) || cpus < 1 || cpus > 64) throw usage(`--cpus '${text}': expected a whole number 1-64`);
      command.cpus = cpus;
    } else if (arg === '--disk-size') command.diskBytes = parseSize('--disk-size', value());
    else if (arg === '--persist') command.persist = value();
    else if (arg === '--network' || arg === '--name') {
      const text = value();
      if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(text)) throw usage(`${arg} '${text}': expected lowercase letters, digits and dashes (at most 32)`);
      if (arg === '--network') command.network = text;
      else command.name = text;
    } else if (arg.startsWith('-')) throw usage(`Unknown option '${arg}' for vm run: expected --config, --forward, --memory, --cpus, --disk-size, --persist, --network or --name`);
    else if (command.target === undefined) command.target = arg;
    else throw usage(`vm run takes one image directory or disk, got a second: '${arg}'`);
  }
  const seen = new Map<string, number>();
  for (const fwd of command.forwards) {
    const key = `${fwd.protocol}:${fwd.hostPort}`;
    if (seen.has(key)) throw usage(`--forward: host port ${fwd.hostPort}/${fwd.protocol} is given twice`);
    seen.set(key, fwd.guestPort);
  }
  return command;
}

function parseVmTestArgs(argv: readonly string[]): VmTestCommand {
  let spec: string | undefined;
  let keep = false;
  for (const arg of argv) {
    if (arg === '--keep') keep = true;
    else if (arg.startsWith('-')) throw usage(`Unknown option '${arg}' for vm test: expected --keep`);
    else if (spec === undefined) spec = arg;
    else throw usage(`vm test takes one spec file, got a second: '${arg}'`);
  }
  if (spec === undefined) throw usage('berth vm test needs a SPEC.yaml');
  return { kind: 'vm-test', spec, keep };
}

/** Parses the words after `berth config`. */
export function parseConfigArgs(argv: readonly string[]): ConfigValidateCommand {
  const [what, file, ...extra] = argv;
  if (what !== 'validate') throw usage(what === undefined ? 'berth config needs validate FILE' : `Unknown config command '${what}': expected validate FILE`);
  if (file === undefined || file.startsWith('-')) throw usage('berth config validate needs a FILE (a machine config, YAML)');
  if (extra.length > 0) throw usage(`config validate takes one file, got also '${extra.join(' ')}'`);
  return { kind: 'config-validate', file };
}
