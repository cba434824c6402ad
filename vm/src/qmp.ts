/**
 * A QMP client over a unix socket: the handshake, commands matched to their replies by
 * id, and asynchronous events. Effects: one socket connection.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../lib/errors.ts';
import { connectWhenListening, type ConnectOptions } from './unix-socket.ts';
import { isRecord } from '../../lib/record.ts';

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

/** Splits newline-delimited JSON: whole messages out, the unfinished tail kept. */
export function splitJsonLines(buffer: string): { messages: unknown[]; rest: string } {
  const messages: unknown[] = [];
  let rest = buffer;
  for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n')) {
    const line = rest.slice(0, nl).trim();
    rest = rest.slice(nl + 1);
    if (line === '') continue;
    try {
      messages.push(JSON.parse(line));
    } catch (error) {
      throw new BerthError('QMP_PROTOCOL', `QMP sent a line that is not JSON: ${line.slice(0, 200)}`, { cause: error });
    }
  }
  return { messages, rest };
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}


/** A connected QMP session, already out of capabilities negotiation. */
export class QmpClient {
  readonly events: QmpEvent[] = [];
  #socket: Socket;
  #buffer = '';
  #nextId = 1;
  #pending = new Map<string, Pending>();
  #eventWaiters: Array<{ name: string; resolve: (event: QmpEvent) => void }> = [];
  #greeting: ((value: unknown) => void) | undefined;
  #closedError: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('error', (error) => this.#onClose(error));
    socket.on('close', () => this.#onClose(new BerthError('QMP_CLOSED', 'QMP connection closed')));
  }

  /**
   * Connects to `socketPath`, retrying while the socket does not exist yet (QEMU is still
   * starting), reads the greeting and negotiates capabilities.
   */
  static async connect(socketPath: string, options: ConnectOptions = {}): Promise<QmpClient> {
    const deadline = performance.now() + (options.timeoutMs ?? 15_000);
    const client = new QmpClient(await connectWhenListening(socketPath, 'QMP', options));
    await client.#handshake(Math.max(1000, deadline - performance.now()));
    return client;
  }

  async #handshake(timeoutMs: number): Promise<void> {
    const greeting = new Promise<unknown>((resolve) => {
      this.#greeting = resolve;
    });
    // A cancellable timer: a pending one would keep the test process alive.
    const timer = new AbortController();
    const first = await Promise.race([
      greeting,
      sleep(timeoutMs, 'timeout' as const, { signal: timer.signal }).catch(() => undefined),
    ]).finally(() => timer.abort());
    if (first === 'timeout') {
      this.close();
      throw new BerthError('QEMU_TIMEOUT', 'QMP sent no greeting');
    }
    await this.execute('qmp_capabilities');
  }

  #onData(chunk: string): void {
    const { messages, rest } = splitJsonLines(this.#buffer + chunk);
    this.#buffer = rest;
    for (const message of messages) this.#dispatch(message);
  }

  #dispatch(message: unknown): void {
    if (!isRecord(message)) return;
    if ('QMP' in message) {
      this.#greeting?.(message);
      this.#greeting = undefined;
      return;
    }
    if (typeof message.event === 'string') {
      const event = message as unknown as QmpEvent;
      this.events.push(event);
      this.#eventWaiters = this.#eventWaiters.filter((w) => {
        if (w.name !== event.event) return true;
        w.resolve(event);
        return false;
      });
      return;
    }
    const id = typeof message.id === 'string' ? message.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending || id === undefined) return;
    this.#pending.delete(id);
    if ('error' in message) {
      const error = isRecord(message.error) ? message.error : {};
      const desc = typeof error.desc === 'string' ? error.desc : JSON.stringify(message.error);
      pending.reject(new BerthError('QMP_ERROR', `QMP command ${pending.command} failed: ${desc}`));
    } else {
      pending.resolve(message.return);
    }
  }

  #onClose(error: Error): void {
    this.#closedError ??= error;
    for (const pending of this.#pending.values()) {
      pending.reject(new BerthError('QMP_CLOSED', `QMP connection closed before ${pending.command} answered`, { cause: error }));
    }
    this.#pending.clear();
  }

  /** Runs one command and resolves with its `return` value. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.#closedError) {
      return Promise.reject(new BerthError('QMP_CLOSED', `QMP connection is closed; cannot run ${command}`, { cause: this.#closedError }));
    }
    const id = `berth-${this.#nextId++}`;
    const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { command, resolve, reject });
      this.#socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Resolves with the first event of that name (one already received counts). */
  waitForEvent(name: string, timeoutMs: number): Promise<QmpEvent> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#eventWaiters = this.#eventWaiters.filter((w) => w.resolve !== done);
        reject(new BerthError('QEMU_TIMEOUT', `QMP event ${name} did not come within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (event: QmpEvent): void => {
        clearTimeout(timer);
        resolve(event);
      };
      this.#eventWaiters.push({ name, resolve: done });
    });
  }

  /** The VM's run state, e.g. "running", "paused", "shutdown". */
  async status(): Promise<string> {
    const result = await this.execute('query-status');
    return isRecord(result) && typeof result.status === 'string' ? result.status : 'unknown';
  }

  /** Presses the ACPI power button. */
  async powerdown(): Promise<void> {
    await this.execute('system_powerdown');
  }

  /** Ends QEMU at once; the connection closing is the expected answer. */
  async quit(): Promise<void> {
    try {
      await this.execute('quit');
    } catch (error) {
      if (!(error instanceof BerthError && error.code === 'QMP_CLOSED')) throw error;
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}
