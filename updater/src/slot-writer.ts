/**
 * The slot writer as a separate process, so its I/O, CPU and memory are charged to its
 * own throttled cgroup and not to init: the parent prepares the group
 * (core/throttle.ts plan), starts `berth.mjs write-slot <request-json>`, and this
 * process moves itself into the group before its first I/O, then writes the slot
 * (writeSlot) or reads it back and verifies it (verifySlot), both with direct I/O. The
 * outcome is one JSON line on stdout. Effects: cgroup.procs of the group, the slot
 * device, the bundle files; `spawnSlotWriter` starts the process.
 */
import { spawn } from 'node:child_process';
import { BerthError, codeFromWire, describeError, isBerthError } from '../../lib/errors.ts';
import { joinCgroup } from './cgroup.ts';
import { steadyWriteRate, type SteadyRate } from './core/write-rate.ts';
import { RATE_SKIP_MS, verifySlot, writeSlot, zstdDecompressor, type VerifyRootStep, type WriteRootStep } from './slot-io.ts';

/** The command-line argument of the writer process. */
export interface SlotWriteRequest {
  /** write-root writes the slot; verify-root reads it back and checks it. */
  step: WriteRootStep | VerifyRootStep;
  bundleDir: string;
  devicePath: string;
  /** The cgroup directory to join before any I/O (absent: stay where started, for tests). */
  cgroup?: string;
}

/** What a finished write or read-back reports. */
export interface SlotIoResult {
  /** Bytes written (image and tree) or read back. */
  bytes: number;
  ms: number;
  /** False when the device refused O_DIRECT and the page cache was used. */
  direct: boolean;
  /** A write's rate after io.max's initial burst, over the time a write was in flight (core/write-rate.ts). */
  steady?: SteadyRate;
}

/** The writer's one line of stdout. */
export type SlotWriteOutcome = ({ ok: true } & SlotIoResult) | { ok: false; code: string; message: string };

export const SLOT_WRITER_COMMAND = 'write-slot';

/** Runs in the child: join the group, write or verify, report. Never throws. */
export async function runSlotWriter(requestJson: string, pid: number): Promise<SlotWriteOutcome> {
  try {
    const request = JSON.parse(requestJson) as SlotWriteRequest;
    // Before the first byte: everything this process does must count against its limits.
    if (request.cgroup !== undefined) await joinCgroup(request.cgroup, pid);
    const started = performance.now();
    if (request.step.kind === 'verify-root') {
      const read = await verifySlot(request.devicePath, request.step);
      return { ok: true, bytes: read.bytes, ms: Math.round(performance.now() - started), direct: read.direct };
    }
    const written = await writeSlot(request.devicePath, request.step, request.bundleDir, zstdDecompressor());
    return { ok: true, bytes: written.bytes, ms: Math.round(performance.now() - started), direct: written.direct, steady: steadyWriteRate(written.samples, RATE_SKIP_MS) };
  } catch (error) {
    return { ok: false, code: isBerthError(error) ? error.code : 'UPDATER_SLOT_WRITE_FAILED', message: describeError(error) };
  }
}

/** Parses the writer's stdout; a missing or garbled line is UPDATER_SLOT_WRITE_FAILED. */
export function parseSlotWriteOutcome(stdout: string, exitDescription: string): SlotWriteOutcome {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const value = JSON.parse(line) as SlotWriteOutcome;
    if (typeof value === 'object' && value !== null && typeof value.ok === 'boolean') return value;
  } catch {
    // fall through
  }
  return { ok: false, code: 'UPDATER_SLOT_WRITE_FAILED', message: `The slot writer ended without a result (${exitDescription})` };
}

export interface SpawnSlotWriterOptions {
  /** The Node binary and the berth bundle (PATHS.nodeBinary, PATHS.bundle on a host). */
  node: string;
  script: string;
  request: SlotWriteRequest;
  signal?: AbortSignal;
}

/**
 * Starts the writer and waits for it. Resolves with its result; rejects with the
 * writer's own BerthError code (hash mismatch, truncated payload, verify failed, ...).
 */
export function spawnSlotWriter(options: SpawnSlotWriterOptions): Promise<SlotIoResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.node, ['--enable-source-maps', options.script, SLOT_WRITER_COMMAND, JSON.stringify(options.request)], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => reject(new BerthError('UPDATER_SLOT_WRITE_FAILED', `Cannot start the slot writer ${options.node}`, { cause: error })));
    child.on('close', (code, signal) => {
      const tail = Buffer.concat(stderr).toString('utf8').trim().slice(-1000);
      const outcome = parseSlotWriteOutcome(Buffer.concat(stdout).toString('utf8'), signal ? `signal ${signal}` : `exit ${code}${tail ? `: ${tail}` : ''}`);
      if (outcome.ok) {
        const { ok: _ok, ...result } = outcome;
        resolve(result);
      } else reject(new BerthError(codeFromWire(outcome.code), outcome.message));
    });
  });
}
