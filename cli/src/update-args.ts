/**
 * Argument parsing for the update commands of `berth` (issue 4): `publish` and the bundle
 * options of `build` (the signing key comes from `berth keys update-signing`, keys/args.ts).
 * Pure: argv in, a command or a CLI_USAGE error out.
 */
import { nextValue, usage } from './argv.ts';

export type UpdateCliCommand =
  | { kind: 'publish'; bundle: string; channel: string; to: string; signingKey: string; expiresInMs?: number; waves?: string }
  | { kind: 'publish-halt'; channel: string; to: string; signingKey: string; expiresInMs?: number; halt: string[]; resume: string[] };

/** The build options that make a build also emit a signed update bundle. */
export interface BundleBuildOptions {
  signingKey?: string;
  channel?: string;
  minVersion?: string;
}

export const UPDATE_HELP = `  berth build ... --signing-key FILE [--channel NAME] [--min-version V]
      Also build the public half of FILE into the image (/usr/lib/berth/update-signing.pub)
      and write a signed update bundle to DIR/<profile>/bundle/ (channel default: stable;
      min-version: the oldest version it may replace, default 0.0.0).
  berth publish BUNDLE --channel NAME --to DIR --signing-key FILE [--expires-in 3d] [--waves PLAN]
      Copy a bundle to DIR/bundles/<version>/ and point DIR/channels/NAME.json at it, signed with
      FILE (the bundle key) and valid for --expires-in (default 3d). Serve DIR with any static
      HTTP server; hosts use it as update.server. Publish again before it expires (same bundle:
      only the signature and expiry change); hosts refuse expired or unsigned metadata.
      --waves default|fast|now|FILE: a staged rollout (FILE: JSON [{"fraction":0.1,"after_s":0},...]);
      without it every host may take the release at once (the same version keeps its plan).
  berth publish --halt VERSION | --resume VERSION --channel NAME --to DIR --signing-key FILE
      Re-sign the channel with VERSION halted (hosts not on it stop taking it) or resumed.
`;

const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;
const CHANNEL = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const DURATION = /^(\d+)(m|h|d)$/;
const DURATION_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--expires-in 3d`: minutes, hours or days, at least an hour. */
function parseExpiresIn(text: string): number {
  const match = DURATION.exec(text);
  const ms = match ? Number(match[1]) * (DURATION_MS[match[2] ?? ''] ?? 0) : 0;
  if (ms < 3_600_000) throw usage(`--expires-in '${text}': expected a duration of at least an hour such as 12h or 3d`);
  return ms;
}

/** `berth publish BUNDLE --channel NAME --to DIR --signing-key FILE [--expires-in D]`. */
export function parsePublishArgs(argv: readonly string[]): UpdateCliCommand {
  let bundle: string | undefined;
  let channel: string | undefined;
  let to: string | undefined;
  let signingKey: string | undefined;
  let expiresInMs: number | undefined;
  let waves: string | undefined;
  const halt: string[] = [];
  const resume: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--channel') {
      channel = nextValue(argv, i, arg);
      if (!CHANNEL.test(channel)) throw usage(`--channel '${channel}': use lowercase letters, digits, '.', '_' and '-'`);
      i += 1;
    } else if (arg === '--to') {
      to = nextValue(argv, i, arg);
      i += 1;
    } else if (arg === '--signing-key') {
      signingKey = nextValue(argv, i, arg);
      i += 1;
    } else if (arg === '--expires-in') {
      expiresInMs = parseExpiresIn(nextValue(argv, i, arg));
      i += 1;
    } else if (arg === '--waves') {
      waves = nextValue(argv, i, arg);
      i += 1;
    } else if (arg === '--halt' || arg === '--resume') {
      const version = nextValue(argv, i, arg);
      if (!VERSION.test(version)) throw usage(`${arg} '${version}': expected a semantic version like 1.2.3`);
      (arg === '--halt' ? halt : resume).push(version);
      i += 1;
    } else if (arg.startsWith('-')) throw usage(`Unknown option '${arg}' for publish`);
    else if (bundle === undefined) bundle = arg;
    else throw usage(`publish takes one bundle directory, got a second: '${arg}'`);
  }
  const isHalt = halt.length > 0 || resume.length > 0;
  if (isHalt && bundle !== undefined) throw usage('--halt and --resume re-sign the channel as it is: give no bundle');
  if (isHalt && waves !== undefined) throw usage('--waves goes with a bundle, not with --halt or --resume');
  const both = halt.find((v) => resume.includes(v));
  if (both !== undefined) throw usage(`${both} is given to both --halt and --resume`);
  if (!isHalt && bundle === undefined) throw usage('publish needs a bundle directory (out/<profile>/bundle), or --halt/--resume VERSION');
  if (channel === undefined) throw usage('publish needs --channel NAME');
  if (to === undefined) throw usage('publish needs --to DIR');
  if (signingKey === undefined) throw usage('publish needs --signing-key FILE: hosts refuse unsigned channel metadata');
  const common = { channel, to, signingKey, ...(expiresInMs !== undefined ? { expiresInMs } : {}) };
  if (isHalt) return { kind: 'publish-halt', ...common, halt, resume };
  return { kind: 'publish', bundle: bundle as string, ...common, ...(waves !== undefined ? { waves } : {}) };
}

/**
 * Consumes one bundle option of `build` at argv[i] into `options`; returns the index of
 * its last argument, or undefined when argv[i] is not a bundle option.
 */
export function parseBundleBuildOption(argv: readonly string[], i: number, options: BundleBuildOptions): number | undefined {
  const arg = argv[i];
  switch (arg) {
    case '--signing-key':
      options.signingKey = nextValue(argv, i, arg);
      return i + 1;
    case '--channel': {
      const value = nextValue(argv, i, arg);
      if (!CHANNEL.test(value)) throw usage(`--channel '${value}': use lowercase letters, digits, '.', '_' and '-'`);
      options.channel = value;
      return i + 1;
    }
    case '--min-version': {
      const value = nextValue(argv, i, arg);
      if (!VERSION.test(value)) throw usage(`--min-version '${value}': expected a semantic version like 1.2.3`);
      options.minVersion = value;
      return i + 1;
    }
    default:
      return undefined;
  }
}

/** Checks the bundle options together (after the whole command line is read). */
export function checkBundleBuildOptions(options: BundleBuildOptions): void {
  if (options.signingKey === undefined && (options.channel !== undefined || options.minVersion !== undefined)) {
    throw usage('--channel and --min-version describe the update bundle: add --signing-key FILE');
  }
}
