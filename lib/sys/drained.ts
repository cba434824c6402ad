/**
 * Waiting for room in a writable stream that may stop for good: a writer paused on a full stream
 * resumes on 'drain', and also on 'close', so a reader that went away (a refused layer, a client
 * that hung up) never leaves it waiting. Effects: listeners on the stream, removed again.
 */
import type { EventEmitter } from 'node:events';

/** Resolves on the stream's next 'drain' or 'close', whichever comes first. */
export function drainedOrClosed(stream: EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
