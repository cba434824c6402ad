/**
 * Argument parsing for the `berth` command, pure: argv in, a command or a usage error
 * out. Unknown flags are errors that say what is accepted.
 */
import { FLEET_HELP, parseFleetArgs, type FleetAdminCommand, type FleetServeCommand } from './fleet-args.ts';
import { KEYS_HELP, parseKeysArgs, type KeysCommand } from './keys/args.ts';
import { CTL_HELP, parseCtlArgs, type CtlCommand } from './ctl/args.ts';
import type { RootFilesystem } from '../../image-builder/src/index.ts';
import { parseConfigArgs, parseVmArgs, VM_HELP, type VmCliCommand } from './vm/args.ts';
import { checkBundleBuildOptions, parseBundleBuildOption, parsePublishArgs, UPDATE_HELP, type BundleBuildOptions, type UpdateCliCommand } from './update-args.ts';
import { nextValue, usage } from './argv.ts';

export type CliCommand =
  | { kind: 'help' }
  | CtlCommand
  | KeysCommand
  | UpdateCliCommand
  | FleetServeCommand
  | FleetAdminCommand
  | VmCliCommand
  | ({ kind: 'build'; profile?: string; out?: string; version?: string; filesystem?: RootFilesystem } & BundleBuildOptions)
  | { kind: 'analyze-boot'; input: string; out?: string; firmwareMs?: number; boot?: number; title?: string; axisEndMs?: number };

export const HELP_TEXT = `berth — a minimal container-host operating system

Usage:
  berth build [profile.yaml] [--out DIR] [--version V] [--filesystem erofs|squashfs]
      Build a bootable disk image from a build profile (default: image-builder/profiles/qemu.yaml)
      into DIR/<profile>/ (default DIR: out). Stages are cached under DIR/cache/.
      SOURCE_DATE_EPOCH fixes every timestamp (default 1700000000); BERTH_CACHE_DIR moves the
      stage cache (default DIR/cache), so builds of several profiles or versions share it.
  berth analyze boot CONSOLE.log [--out boot.svg] [--firmware-ms MS] [--boot N] [--title T] [--axis-ms MS]
      Draw a boot as an SVG timeline (firmware, kernel, initramfs, PID 1 stages, containers
      until healthy; systemd units on the critical chain for a systemd host's console) from a
      captured serial console or a host's /var/log/berth/init.log. Without --out the SVG goes
      to stdout; the rows are printed as text to stderr. --firmware-ms is QEMU start -> kernel
      start measured outside the guest; --boot picks one boot of a log holding several (1-based,
      negative from the end; default the last); --axis-ms fixes the time axis so charts compare.
${KEYS_HELP}${UPDATE_HELP}${VM_HELP}${CTL_HELP}${FLEET_HELP}  berth help | --help
      Show this text.
`;

export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): CliCommand {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') return { kind: 'help' };
  if (sub === 'analyze') return parseAnalyzeArgs(rest);
  if (sub === 'ctl') return parseCtlArgs(rest);
  if (sub === 'fleet') return parseFleetArgs(rest, env);
  if (sub === 'keys') return parseKeysArgs(rest);
  if (sub === 'publish') return parsePublishArgs(rest);
  if (sub === 'vm') return parseVmArgs(rest);
  if (sub === 'config') return parseConfigArgs(rest);
  if (sub !== 'build') throw usage(`Unknown command '${sub}'`);
  const command: Extract<CliCommand, { kind: 'build' }> = { kind: 'build' };
  for (let i = 0; i < rest.length; i += 1) {
    const bundleOptionEnd = parseBundleBuildOption(rest, i, command);
    if (bundleOptionEnd !== undefined) {
      i = bundleOptionEnd;
      continue;
    }
    const arg = rest[i] as string;
    const value = (): string => {
      const v = nextValue(rest, i, arg);
      i += 1;
      return v;
    };
    if (arg === '--out') command.out = value();
    else if (arg === '--version') command.version = value();
    else if (arg === '--filesystem') {
      const fs = value();
      if (fs !== 'erofs' && fs !== 'squashfs') throw usage(`--filesystem must be erofs or squashfs, not '${fs}'`);
      command.filesystem = fs;
    } else if (arg.startsWith('-')) throw usage(`Unknown option '${arg}' for build`);
    else if (command.profile === undefined) command.profile = arg;
    else throw usage(`build takes one profile file, got a second: '${arg}'`);
  }
  checkBundleBuildOptions(command);
  return command;
}

function parseAnalyzeArgs(argv: readonly string[]): CliCommand {
  const [what, ...rest] = argv;
  if (what !== 'boot') throw usage(what === undefined ? 'analyze needs a subject: boot' : `Unknown analyze subject '${what}': expected boot`);
  let input: string | undefined;
  const options: { out?: string; firmwareMs?: number; boot?: number; title?: string; axisEndMs?: number } = {};
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    const value = (): string => {
      const v = rest[i + 1];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw usage(`${arg} needs a value`);
      i += 1;
      return v;
    };
    const count = (min: number): number => {
      const v = value();
      const n = Number(v);
      if (!/^-?\d+$/.test(v) || n < min) throw usage(`${arg} must be a whole number${min === 0 ? ' of milliseconds' : ''}, not '${v}'`);
      return n;
    };
    if (arg === '--out') options.out = value();
    else if (arg === '--title') options.title = value();
    else if (arg === '--firmware-ms') options.firmwareMs = count(0);
    else if (arg === '--axis-ms') options.axisEndMs = count(1);
    else if (arg === '--boot') {
      const n = count(-Infinity);
      if (n === 0) throw usage('--boot counts from 1 (or from -1 for the last)');
      options.boot = n;
    } else if (arg.startsWith('-')) throw usage(`Unknown option '${arg}' for analyze boot`);
    else if (input === undefined) input = arg;
    else throw usage(`analyze boot takes one console log, got a second: '${arg}'`);
  }
  if (input === undefined) throw usage('analyze boot needs a console log file (a captured console or /var/log/berth/init.log)');
  return { kind: 'analyze-boot', input, ...options };
}
