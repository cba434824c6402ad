/**
 * The runtime's side of berth-monitor: starts one (the spawned process returns once the
 * monitor listens and crun runs), connects to its socket and turns the event lines into a
 * handle with the container's pid and its exit, and finds a monitor an earlier init left
 * running. Effects: runs the monitor through Exec, unix socket connections, reads the
 * monitor's files and signals 0 to pids.
 */
import { promises as fsp } from 'node:fs';
import { connect } from 'node:net';
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Exec } from '../../lib/sys/exec.ts';
import { MONITOR_FILES, parseExitFile, parseMonitorEvent, parsePidFile, type MonitorEvent, type MonitorExit } from './core/monitor.ts';

/** How a run ended, as init reports it: the exit code (128 + signal number when killed) and the signal's name. */
export interface RunExit {
  exitCode: number;
  signal?: string;
}

/** A connection to a running monitor. */
export interface MonitorLink {
  /** The supervised process (crun), from the `started` event. */
  pid: number;
  /** The container's first output of this run (kernel-start clock), if it happens. */
  onFirstOutput(listener: (stream: 'stdout' | 'stderr', uptimeMs: number) => void): void;
  /** Resolves when the run ended: the monitor's exit event, or exit.json when the connection broke. */
  exited: Promise<RunExit>;
  /** Drops the connection (the monitor and the container keep running). */
  close(): void;
}

/** The monitor effects a container needs; tests give fakes. */
export interface MonitorSys {
  /** Runs the monitor with `args` and connects to it once it is ready. */
  start(stateDir: string, args: readonly string[], env: Record<string, string>): Promise<MonitorLink>;
  /** Connects to a monitor an earlier init started, if one is alive in `stateDir`. */
  find(stateDir: string): Promise<MonitorLink | undefined>;
  /** The cgroup monitors move into (created on first use), or undefined where there is none to use. */
  cgroup(): Promise<string | undefined>;
}

/** How long a connection waits for the `started` line. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The real implementation: `monitorPath` through `exec`, node:net for the socket. `cgroupDir`
 * (a leaf under berth.slice) keeps monitors out of init's cgroup; it is used when its parent exists.
 */
export function createMonitorSys(exec: Exec, monitorPath: string, cgroupDir?: string): MonitorSys {
  return {
    async cgroup() {
      if (cgroupDir === undefined) return undefined;
      try {
        await fsp.mkdir(cgroupDir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
      }
      return cgroupDir;
    },
    async start(stateDir, args, env) {
      // Exits 0 only once the daemon listens and crun was started; otherwise its stderr says why.
      await exec.run(monitorPath, args, { env, timeoutMs: 30_000 });
      return linkTo(stateDir);
    },
    async find(stateDir) {
      const pid = parsePidFile(await fsp.readFile(`${stateDir}/${MONITOR_FILES.monitorPid}`, 'utf8').catch(() => undefined));
      if (pid === undefined || !isAlive(pid)) return undefined;
      // The pid may have been reused: only a monitor answers on the socket with `started`.
      return linkTo(stateDir).catch(() => undefined);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads exit.json of a monitor that is gone. */
export async function readExitFile(stateDir: string): Promise<MonitorExit | undefined> {
  return parseExitFile(await fsp.readFile(`${stateDir}/${MONITOR_FILES.exit}`, 'utf8').catch(() => undefined));
}

/** Connects to `stateDir`'s socket and resolves with the link once `started` arrived. */
export function linkTo(stateDir: string): Promise<MonitorLink> {
  const path = `${stateDir}/${MONITOR_FILES.socket}`;
  return new Promise<MonitorLink>((resolve, reject) => {
    const socket = connect(path);
    let buffered = '';
    let link: MonitorLink | undefined;
    let firstOutput: { stream: 'stdout' | 'stderr'; uptimeMs: number } | undefined;
    const firstOutputListeners: Array<(stream: 'stdout' | 'stderr', uptimeMs: number) => void> = [];
    let exitEvent: RunExit | undefined;
    let isClosedByUs = false;
    let settleExit: (exit: RunExit) => void = () => undefined;
    const exited = new Promise<RunExit>((done) => (settleExit = done));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BerthError('RUNTIME_MONITOR_FAILED', `Container monitor at ${path} did not report the container's pid within ${HANDSHAKE_TIMEOUT_MS} ms; see its state directory`));
    }, HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    const onEvent = (event: MonitorEvent): void => {
      if (event.kind === 'started' && link === undefined) {
        clearTimeout(timer);
        link = {
          pid: event.pid,
          onFirstOutput(listener) {
            if (firstOutput !== undefined) listener(firstOutput.stream, firstOutput.uptimeMs);
            else firstOutputListeners.push(listener);
          },
          exited,
          close: () => {
            isClosedByUs = true;
            socket.destroy();
          },
        };
        resolve(link);
      } else if (event.kind === 'first-output' && firstOutput === undefined) {
        firstOutput = { stream: event.stream, uptimeMs: event.uptimeMs };
        for (const listener of firstOutputListeners.splice(0)) listener(event.stream, event.uptimeMs);
      } else if (event.kind === 'exit') {
        exitEvent = event.signal === undefined ? { exitCode: event.exitCode } : { exitCode: event.exitCode, signal: event.signal };
      }
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const event = parseMonitorEvent(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (event !== undefined) onEvent(event);
      }
      // Events are short; anything longer is not a monitor talking.
      if (buffered.length > 4096) socket.destroy();
    });
    socket.on('error', (error) => {
      if (link === undefined) {
        clearTimeout(timer);
        reject(new BerthError('RUNTIME_MONITOR_FAILED', `Cannot connect to the container monitor at ${path}: ${describeError(error)}`, { cause: error }));
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (link === undefined) {
        reject(new BerthError('RUNTIME_MONITOR_FAILED', `The container monitor at ${path} closed the connection before it reported the container's pid`));
        return;
      }
      if (isClosedByUs) return;
      if (exitEvent !== undefined) {
        settleExit(exitEvent);
        return;
      }
      // The monitor died without telling (killed): exit.json if it got that far, otherwise unknown.
      void readExitFile(stateDir).then((exit) => settleExit(exit === undefined ? { exitCode: 255 } : exitOf(exit)));
    });
  });
}

/** A run's exit as exit.json recorded it. */
export function exitOf(exit: MonitorExit): RunExit {
  return exit.signal === undefined ? { exitCode: exit.exitCode } : { exitCode: exit.exitCode, signal: exit.signal };
}
