/**
 * init's log: logfmt lines to the console at once, and to /var/log/berth/init.log once
 * /var is mounted (earlier lines wait in memory and are flushed first). File lines
 * carry a wall-clock `time=`; console lines do not.
 */
import { createLogger, type Logger } from '../../lib/log.ts';
import type { AppendFile, Clock, ConsoleWriter } from './sys/types.ts';

/** Lines kept while no log file is open; older ones are dropped beyond this. */
export const EARLY_BUFFER_LINES = 5000;

export interface InitLog {
  logger: Logger;
  /** Starts writing to `file`, first flushing what was buffered. */
  attachFile(file: AppendFile): void;
  /** fsyncs and closes the file; later lines go to the console only. */
  closeFile(): Promise<void>;
  /** A raw console line (the readiness protocol), also kept in the log file. */
  consoleLine(line: string): void;
}

export function createInitLog(console: ConsoleWriter, clock: Pick<Clock, 'now'>, minLevel: 'debug' | 'info' = 'info'): InitLog {
  let file: AppendFile | undefined;
  let closed = false;
  let buffer: string[] = [];
  let dropped = 0;
  const toFile = (line: string): void => {
    const stamped = `time=${clock.now().toISOString()} ${line}`;
    if (file) file.write(stamped);
    else if (!closed) {
      buffer.push(stamped);
      if (buffer.length > EARLY_BUFFER_LINES) {
        buffer.shift();
        dropped++;
      }
    }
  };
  const logger = createLogger({
    component: 'init',
    minLevel,
    sinks: [(line) => console.writeLine(line), toFile],
  });
  return {
    logger,
    attachFile(next) {
      file = next;
      if (dropped > 0) next.write(`level=warn component=init msg="Early log lines dropped" count=${dropped}`);
      for (const line of buffer) next.write(line);
      buffer = [];
      dropped = 0;
    },
    async closeFile() {
      closed = true;
      const current = file;
      file = undefined;
      buffer = [];
      if (current) await current.close();
    },
    consoleLine(line) {
      console.writeLine(line);
      toFile(line);
    },
  };
}
