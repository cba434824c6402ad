/**
 * The client of the guest's debug shell on serial 1 (machine config `debug: { shell: ttyS1 }`):
 * sends one command at a time and reads until that command's end marker.
 * Effects: one unix-socket connection to QEMU's chardev.
 */
import type { Socket } from 'node:net';
import { BerthError } from '../../lib/errors.ts';
import { shellCommandText, takeShellResult, type ShellResult } from './markers.ts';
import { connectWhenListening, type ConnectOptions } from './unix-socket.ts';

export type { ShellResult } from './markers.ts';

export interface RunOptions {
  timeoutMs?: number;
}

const DEFAULT_RUN_TIMEOUT_MS = 60_000;

export class DebugShell {
  #socket: Socket;
  #buffer = '';
  #next = 1;
  #busy = false;
  #waiter: (() => void) | undefined;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#waiter?.();
    });
    const onGone = (error?: Error): void => {
      this.#closed ??= error ?? new BerthError('QEMU_SHELL_CLOSED', 'Debug shell connection closed');
      this.#waiter?.();
    };
    socket.on('error', onGone);
    socket.on('close', () => onGone());
  }

  /** Connects to QEMU's serial-1 socket, retrying while QEMU is still creating it. */
  static async connect(socketPath: string, options: ConnectOptions = {}): Promise<DebugShell> {
    return new DebugShell(await connectWhenListening(socketPath, 'debug shell', options));
  }

  /**
   * Waits until the guest shell answers: sends a no-op every few seconds until one
   * comes back, then one more whose marker flushes whatever earlier tries left behind.
   */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const pings: number[] = [];
    for (;;) {
      const n = this.#next++;
      pings.push(n);
      this.#socket.write(shellCommandText(':', n));
      const answered = await this.#waitUntil(
        () => pings.some((p) => takeShellResult(this.#buffer, p) !== undefined),
        Math.min(3000, Math.max(0, deadline - performance.now())),
      );
      if (answered) break;
      if (this.#closed) {
        throw new BerthError('QEMU_SHELL_CLOSED', 'The guest debug shell connection closed before the shell answered', { cause: this.#closed });
      }
      if (performance.now() >= deadline) {
        throw new BerthError('QEMU_TIMEOUT', `The guest debug shell did not answer within ${timeoutMs} ms (is debug.shell set to ttyS1 in the machine config?)`);
      }
    }
    // The shell runs commands in order: once this marker is back, nothing older is pending.
    await this.run(':', { timeoutMs: Math.max(5000, deadline - performance.now()) });
  }

  /** Runs `command` with /bin/sh in the guest; output is stdout and stderr joined. */
  async run(command: string, options: RunOptions = {}): Promise<ShellResult> {
    if (this.#busy) throw new BerthError('QEMU_SHELL_BUSY', `Debug shell is busy; cannot run ${command}`);
    this.#busy = true;
    try {
      const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
      const n = this.#next++;
      this.#socket.write(shellCommandText(command, n));
      let taken: ReturnType<typeof takeShellResult>;
      const done = await this.#waitUntil(() => (taken = takeShellResult(this.#buffer, n)) !== undefined, timeoutMs);
      if (!done || !taken) {
        const seen = this.#buffer.slice(-2000);
        if (this.#closed) {
          throw new BerthError('QEMU_SHELL_CLOSED', `Debug shell closed while running ${command}; output so far:\n${seen}`, { cause: this.#closed });
        }
        throw new BerthError('QEMU_SHELL_TIMEOUT', `Command ${command} did not finish in the guest within ${timeoutMs} ms; output so far:\n${seen}`);
      }
      this.#buffer = taken.rest;
      return taken.result;
    } finally {
      this.#busy = false;
    }
  }

  /** Runs `command` and fails unless it exits 0; resolves with its output. */
  async check(command: string, options: RunOptions = {}): Promise<string> {
    const result = await this.run(command, options);
    if (result.exitCode !== 0) {
      throw new BerthError('QEMU_SHELL_COMMAND_FAILED', `Guest command ${command} exited with ${result.exitCode}:\n${result.output}`);
    }
    return result.output;
  }

  /**
   * Runs `command` about once a second until its output matches `pattern` or `timeoutMs` has
   * passed, for guest state that settles after READY (a lease, a route, a container's state).
   * Resolves with the last output either way, so the caller's assertion shows what the guest said.
   */
  async runUntil(command: string, pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const { output } = await this.run(command);
      if (pattern.test(output) || performance.now() > deadline) return output;
      await new Promise((done) => setTimeout(done, 1000));
    }
  }

  /** Sends a command without waiting for it (for commands that end the guest, like reboot). */
  send(command: string): void {
    this.#socket.write(`${command}\n`);
  }

  close(): void {
    this.#socket.destroy();
  }

  /** Resolves true once `condition` holds, false after `timeoutMs` or when the socket is gone. */
  #waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve(value);
      };
      const timer = setTimeout(() => finish(condition()), timeoutMs);
      this.#waiter = () => {
        if (condition()) finish(true);
        else if (this.#closed) finish(false);
      };
    });
  }
}
