/**
 * Running programs, the only way berth starts a process: an absolute path, an argv
 * array and an explicit environment, never a shell. Failures come in four typed kinds
 * (could not start, non-zero exit, killed by a signal, timed out), each carrying the
 * command line and the tail of stderr.
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
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

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
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let timedOut = false;
        const timer =
          options.timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                timedOut = true;
                child.kill('SIGKILL');
              }, options.timeoutMs);
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        child.stdin.on('error', () => undefined);
        child.on('error', (error) => {
          if (timer) clearTimeout(timer);
          reject(new BerthError('EXEC_NOT_STARTED', `Could not start ${cmd}: ${error.message}`, { cause: error }));
        });
        child.on('close', (code, signal) => {
          if (timer) clearTimeout(timer);
          const result = {
            exitCode: code ?? -1,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          };
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
