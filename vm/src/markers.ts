/**
 * Parsers for what a test reads from a guest: the readiness lines on the console, and
 * the end-of-command markers of the debug shell. Pure: no effects.
 */

/** `BERTH-READY slot=<a|b> version=<v> boot_ms=<ms>` (lib/layout readyLine). */
export const READY_PATTERN = /BERTH-READY slot=([ab]) version=(\S+) boot_ms=(\d+)/;
/** `BERTH-FAILED reason=<...>` (lib/layout failedLine). */
export const FAILED_PATTERN = /BERTH-FAILED reason=(\S+)/;
/** Kernel panics end a boot as surely as BERTH-FAILED does. */
export const PANIC_PATTERN = /Kernel panic - not syncing[^\r\n]*/;

export interface ReadyLine {
  slot: 'a' | 'b';
  version: string;
  bootMs: number;
}

/** Parses the first readiness line in `text`; undefined when there is none. */
export function parseReadyLine(text: string): ReadyLine | undefined {
  const match = READY_PATTERN.exec(text);
  if (!match) return undefined;
  return { slot: match[1] as 'a' | 'b', version: match[2] ?? '', bootMs: Number(match[3]) };
}

/** Parses the first failure line in `text`; undefined when there is none. */
export function parseFailedLine(text: string): { reason: string } | undefined {
  const match = FAILED_PATTERN.exec(text);
  return match ? { reason: match[1] ?? '' } : undefined;
}

/**
 * The bytes sent to the debug shell for command number `n`. The command runs in a group
 * with stdin from /dev/null (so it cannot eat the next command) and stderr joined to
 * stdout; then the marker carries its exit status. The `$?` keeps an echoed copy of this
 * line (should the guest echo) from ever matching the marker.
 */
export function shellCommandText(command: string, n: number): string {
  return `{ ${command}\n} </dev/null 2>&1; echo "__END_${n}_$?__"\n`;
}

export interface ShellResult {
  exitCode: number;
  output: string;
}

/**
 * Looks for command `n`'s end marker in what the shell has sent so far. Returns the
 * command's output (everything before the marker, carriage returns removed), its exit
 * status, and what follows the marker's line; undefined while the marker's line is still
 * incomplete. The line must have ended: a serial port may deliver the marker and its
 * "\r\n" in separate reads, and a newline left behind would start the next command's output.
 */
export function takeShellResult(buffer: string, n: number): { result: ShellResult; rest: string } | undefined {
  const match = new RegExp(`__END_${n}_(\\d+)__\\r*\\n`).exec(buffer);
  if (!match) return undefined;
  const output = buffer.slice(0, match.index).replace(/\r/g, '');
  return {
    result: { exitCode: Number(match[1]), output },
    rest: buffer.slice(match.index + match[0].length),
  };
}

/** The last `lines` lines of a console log, for failure messages. */
export function tailLines(text: string, lines: number): string {
  const all = text.replace(/\r/g, '').split('\n');
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  return all.slice(-lines).join('\n');
}
