/**
 * Argument parsing for the `berth` command, pure: argv in, a command or a usage error
 * out. Unknown flags are errors that say what is accepted.
 */
import { BerthError } from '../../lib/errors.ts';
import type { RootFilesystem } from './steps/root-image.ts';

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'build'; profile?: string; out?: string; version?: string; filesystem?: RootFilesystem };

export const HELP_TEXT = `berth — a minimal container-host operating system

Usage:
  berth build [profile.yaml] [--out DIR] [--version V] [--filesystem erofs|squashfs]
      Build a bootable disk image from a build profile (default: image-builder/profiles/qemu.yaml)
      into DIR/<profile>/ (default DIR: out). Stages are cached under DIR/cache/.
      SOURCE_DATE_EPOCH fixes every timestamp (default 1700000000).
  berth help | --help
      Show this text.
`;

function usage(message: string): BerthError {
  return new BerthError('CLI_USAGE', `${message} (see 'berth --help')`);
}

export function parseCliArgs(argv: readonly string[]): CliCommand {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') return { kind: 'help' };
  if (sub !== 'build') throw usage(`Unknown command '${sub}'`);
  const command: CliCommand = { kind: 'build' };
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    const value = (): string => {
      const v = rest[i + 1];
      if (v === undefined || v.startsWith('--')) throw usage(`${arg} needs a value`);
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
  return command;
}
