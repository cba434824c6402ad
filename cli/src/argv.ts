/** Small readers the `berth` argument parsers share, pure: a usage error, `--flag value`, a whole number. */
import { BerthError } from '../../lib/errors.ts';

/** A CLI_USAGE error pointing at the help. */
export function usage(message: string): BerthError {
  return new BerthError('CLI_USAGE', `${message} (see 'berth --help')`);
}

/** The word after `--flag` at `argv[i]`; the end or another `--option` there is a usage error naming the flag. */
export function nextValue(argv: readonly string[], i: number, flag: string): string {
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw usage(`${flag} needs a value`);
  return value;
}

/** Reads `--flag value` and `--flag=value`; returns [value, next index]. */
export function takeValue(argv: readonly string[], i: number, flag: string): [string, number] {
  const arg = argv[i] as string;
  const eq = arg.indexOf('=');
  if (eq > 0) return [arg.slice(eq + 1), i];
  const value = argv[i + 1];
  if (value === undefined || (value.startsWith('-') && value.length > 1)) throw usage(`${flag} needs a value`);
  return [value, i + 1];
}

/** A whole number of at least `min`, or a usage error naming the flag. */
export function wholeNumber(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw usage(`${flag} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, not '${text}'`);
  return Number(text);
}
