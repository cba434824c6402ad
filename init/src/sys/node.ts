/**
 * The real Sys over Node: node:fs, node:child_process, the console on fd 1, and power
 * through busybox's reboot(2) with /proc/sysrq-trigger as the last resort. Only
 * main.ts builds it.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, createReadStream, fsyncSync, openSync, writeSync } from 'node:fs';
import { chown, mkdir, open, readdir, readFile, realpath, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { syncDirectory, writeFileAtomically } from '../../../lib/sys/atomic-file.ts';
import { pathExists } from '../../../lib/sys/path-exists.ts';
import { createExec, type Exec } from '../../../lib/sys/exec.ts';
import { systemClock } from '../../../lib/sys/clock.ts';
import { KERNEL_PATHS, TOOLS } from '../core/tools.ts';
import type { AppendFile, Clock, ConsoleWriter, Devices, FileSystem, Power, ProcessExit, Processes, Sys } from './types.ts';

export function createNodeFileSystem(): FileSystem {
  return {
    readText: (path) => readFile(path, 'utf8'),
    async readBytes(path, offset, length) {
      const handle = await open(path, constants.O_RDONLY);
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    writeText: (path, data) => writeFile(path, data),
    writeAtomic: (path, data) => writeFileAtomically(path, data),
    exists: (path) => pathExists(path),
    readDir: (path) => readdir(path),
    realPath: (path) => realpath(path),
    async makeDir(path, mode) {
      await mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    },
    rename: (from, to) => rename(from, to),
    syncDir: (path) => syncDirectory(path),
    async size(path) {
      try {
        return (await stat(path)).size;
      } catch {
        return undefined;
      }
    },
    async symlink(target, path) {
      const temp = `${path}.tmp-${process.pid}`;
      await unlink(temp).catch(() => undefined);
      await symlink(target, temp);
      await rename(temp, path);
    },
    chown: (path, uid, gid) => chown(path, uid, gid),
    openAppend(path) {
      const fd = openSync(path, 'a', 0o640);
      let closed = false;
      const file: AppendFile = {
        write(line) {
          if (closed) return;
          try {
            writeSync(fd, `${line}\n`);
          } catch {
            // A full or failing /var must not take PID 1 down; the console still has the line.
          }
        },
        close() {
          if (closed) return Promise.resolve();
          closed = true;
          try {
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          return Promise.resolve();
        },
      };
      return Promise.resolve(file);
    },
  };
}

export function createNodeProcesses(): Processes {
  return {
    spawn(file, args, options) {
      const fd = options.stdioFd;
      const child = spawn(file, [...args], {
        env: options.env,
        stdio: fd !== undefined ? [fd, fd, fd] : ['ignore', options.onOutput ? 'pipe' : 'ignore', options.onOutput ? 'pipe' : 'ignore'],
        detached: options.newSession,
      });
      const onOutput = options.onOutput;
      if (fd === undefined && onOutput) {
        for (const stream of [child.stdout, child.stderr]) {
          if (!stream) continue;
          let pending = '';
          stream.setEncoding('utf8');
          stream.on('data', (chunk: string) => {
            pending += chunk;
            const lines = pending.split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) if (line.trim() !== '') onOutput(line.trimEnd());
            // A daemon that never ends its line must not grow init's memory without bound.
            if (pending.length > 4096) {
              onOutput(pending);
              pending = '';
            }
          });
          stream.on('end', () => {
            if (pending.trim() !== '') onOutput(pending.trimEnd());
          });
        }
      }
      const exited = new Promise<ProcessExit>((resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error: error.message }));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      return { pid: child.pid ?? -1, exited };
    },
    kill(pid, signal) {
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    },
  };
}

export function createNodeDevices(): Devices {
  return {
    async openReadWrite(path) {
      const handle = await open(path, constants.O_RDWR | constants.O_NOCTTY);
      return { fd: handle.fd, close: () => handle.close() };
    },
    readStream(path, onData, onEnd) {
      // No start position: the stream uses read(2), which character devices need (no pread).
      const stream = createReadStream(path, { highWaterMark: 24 * 32 });
      let ended = false;
      const end = (error?: unknown): void => {
        if (ended) return;
        ended = true;
        onEnd(error);
      };
      stream.on('data', (chunk) => onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
      stream.on('error', (error) => end(error));
      stream.on('end', () => end());
      return {
        close() {
          ended = true;
          stream.destroy();
        },
      };
    },
  };
}

export function createNodeClock(): Clock {
  return systemClock;
}

/** The console is fd 1 (berth-pid1 and Node inherit /dev/console). Synchronous, so lines are out before power goes. */
export function createNodeConsole(fd = 1): ConsoleWriter {
  return {
    writeLine(line) {
      const bytes = Buffer.from(`${line}\n`, 'utf8');
      let offset = 0;
      for (let attempt = 0; offset < bytes.length && attempt < 100; attempt++) {
        try {
          offset += writeSync(fd, bytes, offset);
        } catch {
          // EAGAIN on a busy serial line: try again; other errors: give up on this line.
        }
      }
    },
  };
}

/**
 * busybox `poweroff -f` / `reboot -f` sync and call reboot(2) directly (Node cannot).
 * If that fails, the kernel's sysrq trigger does the same without any program.
 */
export function createNodePower(exec: Exec, fs: FileSystem): Power {
  const act = async (applet: 'poweroff' | 'reboot', sysrq: 'o' | 'b'): Promise<void> => {
    try {
      await exec.run(TOOLS.busybox, [applet, '-f'], { timeoutMs: 10_000 });
      // Give reboot(2) a moment to take effect before falling back.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    } catch {
      // fall through to sysrq
    }
    try {
      await fs.writeText(KERNEL_PATHS.sysrqTrigger, 's');
      await fs.writeText(KERNEL_PATHS.sysrqTrigger, sysrq);
    } catch {
      // Nothing left to try; the caller logs it.
    }
  };
  return {
    powerOff: () => act('poweroff', 'o'),
    reboot: () => act('reboot', 'b'),
  };
}

export function createNodeSys(): Sys {
  const exec = createExec();
  const fs = createNodeFileSystem();
  return {
    exec,
    fs,
    processes: createNodeProcesses(),
    devices: createNodeDevices(),
    clock: createNodeClock(),
    console: createNodeConsole(),
    power: createNodePower(exec, fs),
  };
}
