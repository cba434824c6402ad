/**
 * Running programs, the only way berth starts a process: an absolute path, an argv
 * array and an explicit environment, never a shell. Failures come in four typed kinds
 * (could not start, non-zero exit, killed by a signal, timed out), each carrying the
 * command line and the tail of stderr. Output is captured up to a bound per stream (the rest is
 * read and discarded, so a child that prints without end neither blocks nor grows the caller's
 * memory), and a timed-out child whose pipes stay open (a grandchild holding them) still ends.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../errors.ts';

export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes written to the child's stdin, then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Exit codes that are not failures (default: only 0). */
  okExitCodes?: readonly number[];
  /**
   * Bytes kept per stream (default DEFAULT_MAX_OUTPUT_BYTES); the first ones are kept, the rest
   * is drained and counted in `dropped`.
   */
  maxOutputBytes?: number;
  /**
   * Runs when the timeout fires, before the child is killed, with the child's pid: kills what
   * the child started (a process inside a container that `crun exec` started). Its errors are
   * ignored.
   */
  onTimeout?: (childPid: number | undefined) => Promise<void>;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Bytes past maxOutputBytes that were read and discarded, per stream; absent when none were. */
  dropped?: { stdout: number; stderr: number };
}

/** What a caller keeps of a child's stdout and of its stderr unless it asks otherwise. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** After a timeout kill, how long the pipes may stay open (held by a grandchild) before they are cut. */
const PIPE_GRACE_MS = 1000;

/** The effect interface: everything that runs a program takes one of these. */
export interface Exec {
  run(file: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

export const DEFAULT_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
};

const STDERR_TAIL_CHARS = 2000;

export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function tail(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed.length > STDERR_TAIL_CHARS ? `…${trimmed.slice(-STDERR_TAIL_CHARS)}` : trimmed;
}

/**
 * Keeps the first `limit` bytes of a stream and counts the rest: memory stays below the limit
 * whatever the child writes (the buffer starts small and doubles up to it).
 */
export class BoundedCapture {
  private buffer: Buffer;
  private length = 0;
  /** Bytes seen beyond the limit. */
  dropped = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new BerthError('EXEC_OPTION_INVALID', `maxOutputBytes must be a whole number of bytes >= 0, not ${limit}`);
    this.buffer = Buffer.alloc(Math.min(limit, 4096));
  }

  push(chunk: Uint8Array): void {
    const room = this.limit - this.length;
    const take = Math.min(room, chunk.length);
    if (take > 0) {
      if (this.length + take > this.buffer.length) {
        // Grow by doubling up to the limit: small outputs stay small.
        const grown = Buffer.alloc(Math.min(this.limit, Math.max(this.buffer.length * 2, this.length + take)));
        this.buffer.copy(grown, 0, 0, this.length);
        this.buffer = grown;
      }
      this.buffer.set(chunk.subarray(0, take), this.length);
      this.length += take;
    }
    this.dropped += chunk.length - take;
  }

  /** The kept bytes as UTF-8 (a character cut at the limit becomes U+FFFD). */
  text(): string {
    return this.buffer.toString('utf8', 0, this.length);
  }
}

/** The real implementation over node:child_process. */
export function createExec(): Exec {
  return {
    run(file, args, options = {}) {
      const cmd = commandLine(file, args);
      return new Promise<ExecResult>((resolve, reject) => {
        const child = spawn(file, [...args], {
          env: options.env ?? { ...DEFAULT_ENV },
          cwd: options.cwd,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
        const stdout = new BoundedCapture(limit);
        const stderr = new BoundedCapture(limit);
        let timedOut = false;
        let graceTimer: NodeJS.Timeout | undefined;
        const timer =
          options.timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                timedOut = true;
                const killChild = (): void => {
                  child.kill('SIGKILL');
                };
                if (options.onTimeout === undefined) killChild();
                else options.onTimeout(child.pid).catch(() => undefined).finally(killChild);
              }, options.timeoutMs);
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        child.stdout.on('error', () => undefined);
        child.stderr.on('error', () => undefined);
        child.stdin.on('error', () => undefined);
        child.on('error', (error) => {
          if (timer) clearTimeout(timer);
          reject(new BerthError('EXEC_NOT_STARTED', `Could not start ${cmd}: ${error.message}`, { cause: error }));
        });
        child.on('exit', () => {
          // A process the child started may hold the pipes open after the child died; once timed
          // out, stop waiting for them ('close' follows the destroy).
          if (!timedOut) return;
          graceTimer = setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
          }, PIPE_GRACE_MS);
        });
        child.on('close', (code, signal) => {
          if (timer) clearTimeout(timer);
          if (graceTimer) clearTimeout(graceTimer);
          const result: ExecResult = { exitCode: code ?? -1, stdout: stdout.text(), stderr: stderr.text() };
          if (stdout.dropped > 0 || stderr.dropped > 0) result.dropped = { stdout: stdout.dropped, stderr: stderr.dropped };
          if (timedOut) {
            reject(new BerthError('EXEC_TIMEOUT', `${cmd} did not finish within ${options.timeoutMs} ms: ${tail(result.stderr)}`));
          } else if (signal) {
            reject(new BerthError('EXEC_SIGNALED', `${cmd} was killed by ${signal}: ${tail(result.stderr)}`));
          } else if (!(options.okExitCodes ?? [0]).includes(result.exitCode)) {
            reject(new BerthError('EXEC_EXIT_NONZERO', `${cmd} exited with ${result.exitCode}: ${tail(result.stderr)}`));
          } else {
            resolve(result);
          }
        });
        if (options.input !== undefined) child.stdin.end(options.input);
        else child.stdin.end();
      });
    },
  };
}

export interface RecordedCall {
  file: string;
  args: string[];
  options: ExecOptions;
}

/** A fake for tests: records calls and answers from a handler. */
export function createFakeExec(
  handler: (call: RecordedCall) => Partial<ExecResult> | Error | undefined = () => undefined,
): Exec & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    run(file, args, options = {}) {
      const call = { file, args: [...args], options };
      calls.push(call);
      const answer = handler(call);
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve({ exitCode: 0, stdout: '', stderr: '', ...answer });
    },
  };
}
