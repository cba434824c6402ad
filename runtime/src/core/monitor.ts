/**
 * The contract with berth-monitor (native/berth-monitor.c), the per-container process that
 * holds a container's stdio, log and exit status so it outlives init's Node: its argv, the
 * event lines of its socket, its files in the container's state directory, and what a
 * (re)starting engine does with a container it finds there. Pure: text in, data out.
 */
import { createHash } from 'node:crypto';
import { BerthError } from '../../../lib/errors.ts';
import type { RotationPolicy } from './container-log.ts';
import { PATHS } from '../../../lib/layout.ts';

/** Where the image installs the monitor (image-builder's native stage). */
export const MONITOR_PATH = PATHS.monitorBinary;

/** The monitor's files in a container's state directory. */
export const MONITOR_FILES = {
  socket: 'monitor.sock',
  monitorPid: 'monitor.pid',
  containerPid: 'container.pid',
  exit: 'exit.json',
  /** Written by the runtime before the monitor starts: specHash() of what the container runs. */
  specHash: 'spec.sha256',
} as const;

export interface MonitorOptions {
  stateDir: string;
  logFile: string;
  rotation: RotationPolicy;
  /** A cgroup directory the monitor moves itself into before it starts crun (out of init.scope). */
  cgroup?: string;
  /**
   * The OOM score adjustment the program starts with, set by the monitor between fork and exec:
   * crun and the container's first process begin there instead of at init's -1000.
   */
  oomScoreAdj?: number;
}

/** The monitor's argv: its options, then the program it supervises (absolute path) and that program's arguments. */
export function monitorArgs(options: MonitorOptions, program: string, args: readonly string[]): string[] {
  if (!program.startsWith('/')) throw new BerthError('RUNTIME_SPEC_INVALID', `The monitor runs programs by absolute path, not '${program}'`);
  const out = ['--state-dir', options.stateDir, '--log', options.logFile, '--max-size', String(options.rotation.maxBytes), '--max-files', String(options.rotation.maxFiles)];
  if (options.cgroup !== undefined) out.push('--cgroup', options.cgroup);
  if (options.oomScoreAdj !== undefined) {
    if (!Number.isInteger(options.oomScoreAdj) || Math.abs(options.oomScoreAdj) > 1000) {
      throw new BerthError('RUNTIME_SPEC_INVALID', `OOM score adjustment ${options.oomScoreAdj} is not an integer from -1000 to 1000`);
    }
    out.push('--oom-score-adj', String(options.oomScoreAdj));
  }
  return [...out, '--', program, ...args];
}

export type MonitorEvent =
  | { kind: 'started'; pid: number }
  | { kind: 'first-output'; stream: 'stdout' | 'stderr'; uptimeMs: number }
  | { kind: 'exit'; exitCode: number; signal?: string };

/** One line of the monitor's socket (without its newline); undefined for a line this version does not know. */
export function parseMonitorEvent(line: string): MonitorEvent | undefined {
  const [kind, ...pairs] = line.trim().split(' ');
  const fields = new Map(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  const integer = (key: string): number | undefined => {
    const text = fields.get(key);
    return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
  };
  if (kind === 'started') {
    const pid = integer('pid');
    return pid === undefined ? undefined : { kind, pid };
  }
  if (kind === 'first-output') {
    const stream = fields.get('stream');
    const uptimeMs = integer('uptime_ms');
    return (stream === 'stdout' || stream === 'stderr') && uptimeMs !== undefined ? { kind, stream, uptimeMs } : undefined;
  }
  if (kind === 'exit') {
    const exitCode = integer('code');
    if (exitCode === undefined) return undefined;
    const signal = fields.get('signal');
    return signal === undefined ? { kind, exitCode } : { kind, exitCode, signal };
  }
  return undefined;
}

/** exit.json: how the container's last run ended. */
export interface MonitorExit {
  exitCode: number;
  signal?: string;
  finishedAt: string;
}

/** Parses exit.json; undefined when it is not one (absent, torn, another shape). */
export function parseExitFile(text: string | undefined): MonitorExit | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as { exitCode?: unknown; signal?: unknown; finishedAt?: unknown };
    if (typeof value.exitCode !== 'number' || !Number.isInteger(value.exitCode) || typeof value.finishedAt !== 'string') return undefined;
    return typeof value.signal === 'string' ? { exitCode: value.exitCode, signal: value.signal, finishedAt: value.finishedAt } : { exitCode: value.exitCode, finishedAt: value.finishedAt };
  } catch {
    return undefined;
  }
}

/** A pid file's number; undefined unless it is one positive integer. */
export function parsePidFile(text: string | undefined): number | undefined {
  const trimmed = text?.trim();
  return trimmed !== undefined && /^[1-9]\d*$/.test(trimmed) ? Number(trimmed) : undefined;
}

/**
 * The hash stored beside a running container: its entry of the machine config and the digest
 * of the image config it runs. Not config.json: that needs the container prepared (root mounted,
 * network attached), which must not happen again under a running container.
 */
export function specHash(container: unknown, imageConfigDigest: string): string {
  return createHash('sha256').update(JSON.stringify({ container, image: imageConfigDigest })).digest('hex');
}

/** What the engine found in a container's state directory when it started. */
export interface FoundMonitor {
  /** monitor.pid names a live process and monitor.sock accepts a connection. */
  isLive: boolean;
  /** exit.json, if the last run's monitor wrote one. */
  exit?: MonitorExit;
  /** spec.sha256 as stored at the last start (undefined when absent). */
  storedSpecHash?: string;
}

/**
 * What to do with one container at engine start:
 * - `adopt`: a live monitor runs the container with the spec the config asks for — keep it (same pid, no restart);
 * - `stop-then-start`: a live monitor runs it with another spec (the config changed while init was down) — stop it as an operator change would, then start afresh;
 * - `stop`: a live monitor runs a container that is no longer configured;
 * - `apply-exit`: no live monitor, but the run ended while init was down and exit.json says how — apply the restart policy to that exit;
 * - `start`: nothing to take over;
 * - `ignore`: nothing runs and nothing is configured.
 */
export type AdoptionDecision = { kind: 'adopt' } | { kind: 'stop-then-start' } | { kind: 'stop' } | { kind: 'apply-exit'; exit: MonitorExit } | { kind: 'start' } | { kind: 'ignore' };

/**
 * Decides for one container's monitor directory. `wantedSpecHash` is the hash of what the
 * current config asks for; undefined when the container is not configured any more. The
 * runtime removes exit.json once it handled an exit itself, so one found here was not handled.
 */
export function decideAdoption(found: FoundMonitor, wantedSpecHash: string | undefined): AdoptionDecision {
  if (found.isLive) {
    if (wantedSpecHash === undefined) return { kind: 'stop' };
    return found.storedSpecHash === wantedSpecHash ? { kind: 'adopt' } : { kind: 'stop-then-start' };
  }
  if (wantedSpecHash === undefined) return { kind: 'ignore' };
  // An exit recorded under another spec belongs to a container the operator replaced: start the new one.
  if (found.exit !== undefined && found.storedSpecHash === wantedSpecHash) return { kind: 'apply-exit', exit: found.exit };
  return { kind: 'start' };
}
