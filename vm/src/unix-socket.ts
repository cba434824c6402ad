/**
 * Connecting to one of QEMU's unix sockets (QMP, a serial chardev) while QEMU may still
 * be creating it. Effects: one socket connection.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../lib/errors.ts';

export interface ConnectOptions {
  /** Give up with QEMU_TIMEOUT after this long (default 15 s). */
  timeoutMs?: number;
  /** Checked before every try: false ends the wait with QEMU_EXITED. */
  isAlive?: () => boolean;
}

/** One connection attempt; rejects with the errno error (ENOENT, ECONNREFUSED, ...). */
function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * Connects to `socketPath`, retrying every 100 ms while the socket is missing or not
 * listening yet. `what` names the socket in errors ("QMP", "debug shell").
 */
export async function connectWhenListening(socketPath: string, what: string, options: ConnectOptions = {}): Promise<Socket> {
  const deadline = performance.now() + (options.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    if (options.isAlive && !options.isAlive()) {
      throw new BerthError('QEMU_EXITED', `QEMU exited before its ${what} socket ${socketPath} answered`, { cause: lastError });
    }
    try {
      return await openSocket(socketPath);
    } catch (error) {
      lastError = error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw error;
    }
    if (performance.now() >= deadline) {
      throw new BerthError('QEMU_TIMEOUT', `The ${what} socket ${socketPath} did not answer in time`, { cause: lastError });
    }
    await sleep(100);
  }
}
