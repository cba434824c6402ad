/**
 * The effects init may perform, as a small bundle of interfaces passed in from
 * main.ts: run programs (lib/sys/exec), files, processes with inherited fds, device
 * streams, clock, console and power. Real implementations are in node.ts, fakes for
 * tests in fakes.ts.
 */
import type { Exec } from '../../../lib/sys/exec.ts';

export interface FileSystem {
  readText(path: string): Promise<string>;
  /** Up to `length` bytes from byte `offset` (fewer at the end of the file): a block device's superblock. */
  readBytes(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Plain write (procfs, sysfs, cgroupfs take one write per value). */
  writeText(path: string, data: string): Promise<void>;
  /** Crash-safe replace: temp file, fsync, rename, fsync of the directory. */
  writeAtomic(path: string, data: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  readDir(path: string): Promise<string[]>;
  realPath(path: string): Promise<string>;
  /** mkdir -p */
  makeDir(path: string, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsync a directory, making renames in it durable. */
  syncDir(path: string): Promise<void>;
  /** Size in bytes, undefined when missing. */
  size(path: string): Promise<number | undefined>;
  /** Points `path` at `target` (a symlink), replacing whatever is there in one rename. */
  symlink(target: string, path: string): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  /** Opens a file for appending lines (created 0640 when missing). */
  openAppend(path: string): Promise<AppendFile>;
}

/** An open log file. write() is synchronous so nothing is lost when power goes. */
export interface AppendFile {
  write(line: string): void;
  /** fsync and close. */
  close(): Promise<void>;
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
  /** Set when the program could not be started. */
  error?: string;
}

export interface ChildHandle {
  pid: number;
  exited: Promise<ProcessExit>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** An open fd used as the child's stdin, stdout and stderr. */
  stdioFd?: number;
  /** Without stdioFd: stdin is /dev/null and each line of stdout and stderr comes here. */
  onOutput?: (line: string) => void;
  /** Own session and process group (setsid), so it can be killed as a group. */
  newSession: boolean;
}

export interface Processes {
  /** Starts a long-running child (exec is for commands that finish). */
  spawn(file: string, args: readonly string[], options: SpawnOptions): ChildHandle;
  /** kill(2); negative pid signals a process group. False when it does not exist. */
  kill(pid: number, signal: NodeJS.Signals): boolean;
}

export interface DeviceHandle {
  fd: number;
  close(): Promise<void>;
}

export interface StreamHandle {
  close(): void;
}

export interface Devices {
  /** Opens a character device read-write without making it the controlling tty. */
  openReadWrite(path: string): Promise<DeviceHandle>;
  /** Reads a character device forever; `onEnd` on EOF or error. */
  readStream(path: string, onData: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void): StreamHandle;
}

/** Time for init (lib/sys/clock.ts): monotonic for deadlines, wall clock for log file timestamps. */
import type { Clock } from '../../../lib/sys/clock.ts';
export type { Clock };

export interface ConsoleWriter {
  /** Writes one line to the console, synchronously; never throws. */
  writeLine(line: string): void;
}

export interface Power {
  /** Power off now (reboot(2) through busybox); resolves only if that failed. */
  powerOff(): Promise<void>;
  reboot(): Promise<void>;
}

export interface Sys {
  exec: Exec;
  fs: FileSystem;
  processes: Processes;
  devices: Devices;
  clock: Clock;
  console: ConsoleWriter;
  power: Power;
}
