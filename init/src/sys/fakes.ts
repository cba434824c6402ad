/**
 * Fakes of every Sys interface for tests: an in-memory file tree, recorded processes,
 * device streams the test feeds, a manual clock, a console and power that record.
 */
import { createFakeExec, type ExecResult, type RecordedCall } from '../../../lib/sys/exec.ts';
import type { ChildHandle, Clock, ConsoleWriter, Devices, FileSystem, Power, ProcessExit, Processes, SpawnOptions, Sys } from './types.ts';

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: 'ENOENT' });
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export interface FakeFileSystem extends FileSystem {
  files: Map<string, string>;
  dirs: Set<string>;
  /** Symlink-resolved paths answered by realPath. */
  links: Map<string, string>;
  /** Lines written through openAppend, by path. */
  appended: Map<string, string[]>;
  /** Writes to these paths fail with the given error. */
  failWrites: Map<string, Error>;
  /** Every mutating call, in order: `write /proc/sys/kernel/hostname berth`. */
  ops: string[];
}

export function createFakeFileSystem(initial: Record<string, string> = {}, dirs: readonly string[] = []): FakeFileSystem {
  const files = new Map(Object.entries(initial));
  const dirSet = new Set<string>(['/']);
  const addDirs = (path: string): void => {
    for (let p = path; p !== '/' && p !== ''; p = parentOf(p)) dirSet.add(p);
  };
  for (const path of files.keys()) addDirs(parentOf(path));
  for (const dir of dirs) addDirs(dir);
  const fs: FakeFileSystem = {
    files,
    dirs: dirSet,
    links: new Map(),
    appended: new Map(),
    failWrites: new Map(),
    ops: [],
    readText(path) {
      const text = files.get(path);
      return text === undefined ? Promise.reject(enoent(path)) : Promise.resolve(text);
    },
    writeText(path, data) {
      fs.ops.push(`write ${path} ${data}`);
      const failure = fs.failWrites.get(path);
      if (failure) return Promise.reject(failure);
      files.set(path, data);
      return Promise.resolve();
    },
    writeAtomic(path, data) {
      fs.ops.push(`write-atomic ${path}`);
      if (!dirSet.has(parentOf(path))) return Promise.reject(enoent(path));
      files.set(path, data);
      return Promise.resolve();
    },
    exists(path) {
      return Promise.resolve(files.has(path) || dirSet.has(path) || fs.links.has(path));
    },
    readDir(path) {
      if (!dirSet.has(path)) return Promise.reject(enoent(path));
      const prefix = path === '/' ? '/' : `${path}/`;
      const names = new Set<string>();
      for (const p of [...files.keys(), ...dirSet, ...fs.links.keys()]) {
        if (p.startsWith(prefix) && p.length > prefix.length) names.add(p.slice(prefix.length).split('/')[0] ?? '');
      }
      return Promise.resolve([...names].sort());
    },
    realPath(path) {
      return Promise.resolve(fs.links.get(path) ?? path);
    },
    makeDir(path) {
      fs.ops.push(`mkdir ${path}`);
      addDirs(path);
      return Promise.resolve();
    },
    rename(from, to) {
      fs.ops.push(`rename ${from} ${to}`);
      const text = files.get(from);
      if (text === undefined) return Promise.reject(enoent(from));
      files.delete(from);
      files.set(to, text);
      return Promise.resolve();
    },
    syncDir(path) {
      fs.ops.push(`sync-dir ${path}`);
      return Promise.resolve();
    },
    size(path) {
      return Promise.resolve(files.get(path)?.length);
    },
    readBytes(path, offset, length) {
      // Binary content is kept as a latin1 string: one character per byte.
      const text = files.get(path);
      if (text === undefined) return Promise.reject(enoent(path));
      return Promise.resolve(Buffer.from(text, 'latin1').subarray(offset, offset + length));
    },
    symlink(target, path) {
      fs.ops.push(`symlink ${path} -> ${target}`);
      if (!dirSet.has(parentOf(path))) return Promise.reject(enoent(path));
      fs.links.set(path, target);
      return Promise.resolve();
    },
    chown(path, uid, gid) {
      fs.ops.push(`chown ${path} ${uid}:${gid}`);
      return Promise.resolve();
    },
    openAppend(path) {
      fs.ops.push(`open-append ${path}`);
      const failure = fs.failWrites.get(path);
      if (failure) return Promise.reject(failure);
      const lines = fs.appended.get(path) ?? [];
      fs.appended.set(path, lines);
      let closed = false;
      return Promise.resolve({
        write(line: string) {
          if (!closed) lines.push(line);
        },
        close() {
          fs.ops.push(`close ${path}`);
          closed = true;
          return Promise.resolve();
        },
      });
    },
  };
  return fs;
}

export interface FakeChild {
  file: string;
  args: string[];
  options: SpawnOptions;
  pid: number;
  exit(result: ProcessExit): void;
}

export interface FakeProcesses extends Processes {
  children: FakeChild[];
  kills: { pid: number; signal: string }[];
  /** Pids kill() reports as alive (default: every pid). */
  isAlive: (pid: number) => boolean;
}

export function createFakeProcesses(): FakeProcesses {
  let nextPid = 1000;
  const processes: FakeProcesses = {
    children: [],
    kills: [],
    isAlive: () => true,
    spawn(file, args, options): ChildHandle {
      let resolveExit: (result: ProcessExit) => void = () => undefined;
      const exited = new Promise<ProcessExit>((resolve) => (resolveExit = resolve));
      const pid = nextPid++;
      processes.children.push({ file, args: [...args], options, pid, exit: resolveExit });
      return { pid, exited };
    },
    kill(pid, signal) {
      processes.kills.push({ pid, signal });
      // SIGKILL ends a fake child (by pid or process group) at once.
      const child = processes.children.find((c) => c.pid === Math.abs(pid));
      if (child && signal === 'SIGKILL') child.exit({ code: null, signal });
      return processes.isAlive(pid);
    },
  };
  return processes;
}

export interface FakeDevices extends Devices {
  opened: string[];
  streams: Map<string, { onData: (chunk: Uint8Array) => void; onEnd: (error?: unknown) => void; closed: boolean }>;
}

export function createFakeDevices(): FakeDevices {
  let nextFd = 20;
  const devices: FakeDevices = {
    opened: [],
    streams: new Map(),
    openReadWrite(path) {
      devices.opened.push(path);
      return Promise.resolve({ fd: nextFd++, close: () => Promise.resolve() });
    },
    readStream(path, onData, onEnd) {
      const entry = { onData, onEnd, closed: false };
      devices.streams.set(path, entry);
      return {
        close() {
          entry.closed = true;
        },
      };
    },
  };
  return devices;
}

export interface FakeClock extends Clock {
  nowMs: number;
  sleeps: number[];
}

/** Sleeping advances the clock at once, so backoffs and grace periods run instantly. */
export function createFakeClock(startMs = 0): FakeClock {
  const clock: FakeClock = {
    nowMs: startMs,
    sleeps: [],
    monotonicMs: () => clock.nowMs,
    now: () => new Date(Date.UTC(2026, 0, 1) + clock.nowMs),
    sleep(ms) {
      clock.sleeps.push(ms);
      clock.nowMs += ms;
      return new Promise((resolve) => setImmediate(resolve));
    },
    random: () => 0.5,
  };
  return clock;
}

export function createFakeConsole(): ConsoleWriter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, writeLine: (line) => lines.push(line) };
}

export function createFakePower(): Power & { actions: string[] } {
  const actions: string[] = [];
  return {
    actions,
    powerOff() {
      actions.push('poweroff');
      return Promise.resolve();
    },
    reboot() {
      actions.push('reboot');
      return Promise.resolve();
    },
  };
}

export type FakeExecHandler = (call: RecordedCall) => Partial<ExecResult> | Error | undefined;

export interface FakeSys extends Sys {
  exec: ReturnType<typeof createFakeExec>;
  fs: FakeFileSystem;
  processes: FakeProcesses;
  devices: FakeDevices;
  clock: FakeClock;
  console: ReturnType<typeof createFakeConsole>;
  power: ReturnType<typeof createFakePower>;
}

export function createFakeSys(options: { files?: Record<string, string>; dirs?: string[]; exec?: FakeExecHandler } = {}): FakeSys {
  return {
    exec: createFakeExec(options.exec),
    fs: createFakeFileSystem(options.files, options.dirs),
    processes: createFakeProcesses(),
    devices: createFakeDevices(),
    clock: createFakeClock(),
    console: createFakeConsole(),
    power: createFakePower(),
  };
}
