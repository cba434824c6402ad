/**
 * Init's V8 startup snapshot: Node's heap with init's bundle (berth-init.cjs) already evaluated,
 * so a boot starts Node from it (`node --snapshot-blob`) instead of running the ES module
 * loader, the loader berth.mjs, and the bundle's top level. Built by `node --build-snapshot
 * berth-init.cjs` (main.ts registers its main when it is evaluated for one), as a child of
 * init once the boot settled, and kept on /var named by the root's dm-verity hash: the hash
 * covers the Node binary and the bundle both, so an update, a rollback or a rebuild never
 * starts another root's init. Node's snapshots are not reproducible (the heap holds a random
 * hash seed), so the snapshot cannot be built into the byte-identical root image.
 *
 * The start: the initramfs copies the kept snapshot of this root to PATHS.startupSnapshotRun;
 * berth-pid1 renames it `.in-use` and runs Node with `--snapshot-blob … --verify-snapshot-checksum`
 * (V8 skips the checksum in release builds otherwise, and a damaged heap would run); init removes
 * the file first thing. A Node that dies before that leaves the file: berth-pid1 then starts it
 * again at once from the bundle, as the same first start, and that init drops the kept
 * snapshot (settleSnapshotAtStart, dropKeptSnapshots); the next boot builds a new one.
 * Effects: reads and removes the files named, runs Node to build, writes below the kept directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { syncDirectory } from '../../lib/sys/atomic-file.ts';

/** berth-pid1 renames the snapshot it starts Node from to this (native/berth-pid1.c). */
export const IN_USE_SUFFIX = '.in-use';

/** Building takes a few seconds of CPU under emulation; a child still running after this is stuck. */
export const SNAPSHOT_BUILD_TIMEOUT_MS = 180_000;

/**
 * Every function of the bundle compiled when it is evaluated, so the snapshot carries their
 * bytecode: a snapshot holds only what was compiled, and init's functions would otherwise be
 * compiled lazily at every boot, as they ran. Measured under TCG, reboots from a snapshot built
 * without it: `Init starting` 1 s earlier than from the bundle with its code cache, BERTH-READY
 * 0.4 s later (16.5–17.1 s against 16.1 s); with it, 13.9–14.9 s.
 */
export const SNAPSHOT_BUILD_FLAGS = ['--no-lazy'];

/** Stderr kept from a failed build, for its error. */
const STDERR_TAIL_BYTES = 2048;

/** The kept snapshot's file name for the root with this dm-verity hash (berth.roothash). */
export function startupSnapshotFileName(rootHash: string): string {
  if (!/^[0-9a-f]{32,128}$/.test(rootHash)) {
    throw new BerthError('INIT_SNAPSHOT_FAILED', `The root hash "${rootHash.slice(0, 80)}" on the kernel command line is not hex: the startup snapshot cannot be named for this root`);
  }
  return `init-${rootHash}.blob`;
}

/**
 * When this process builds a startup snapshot (`node --build-snapshot berth-init.cjs`), makes
 * `start` the snapshot's main and says true; otherwise does nothing. Called at the bundle's top
 * level, which is then all that runs before the heap is written.
 */
export function onSnapshotStart(start: () => void): boolean {
  const { startupSnapshot } = process.getBuiltinModule('node:v8');
  if (!startupSnapshot.isBuildingSnapshot()) return false;
  startupSnapshot.setDeserializeMainFunction(start);
  return true;
}

/** How this init's Node started. `snapshot-failed`: from the bundle, after a start from the snapshot ended before init ran. */
export type NodeStartedFrom = 'snapshot' | 'bundle' | 'snapshot-failed';

/**
 * At init's start (synchronous, before anything else): removes the snapshot copy of this boot
 * (its pages are tmpfs memory; Node has read it) and says how Node started.
 */
export function settleSnapshotAtStart(fromSnapshot: boolean, runPath: string): NodeStartedFrom {
  const inUse = runPath + IN_USE_SUFFIX;
  const leftover = !fromSnapshot && existsSync(inUse);
  rmSync(inUse, { force: true });
  rmSync(runPath, { force: true });
  return fromSnapshot ? 'snapshot' : leftover ? 'snapshot-failed' : 'bundle';
}

export interface SnapshotBuildOptions {
  nodeBinary: string;
  /** The CommonJS bundle to evaluate (berth-init.cjs). */
  bundle: string;
  /** Where kept snapshots live; only `fileName` stays in it. */
  keptDir: string;
  fileName: string;
  /** Node's options for the build (default SNAPSHOT_BUILD_FLAGS). */
  buildFlags?: readonly string[];
  timeoutMs?: number;
}

export interface SnapshotBuilt {
  bytes: number;
  /** Other files removed: snapshots of other roots, a torn build. */
  removed: number;
}

/** Runs Node to build the snapshot into `output`; rejects with the child's stderr when it fails. */
/**
 * Node's snapshot configuration (`--build-snapshot-config`): without Node's code cache of its
 * built-ins. With --no-lazy that cache is 13 of the file's 18.5 MiB, lies outside the part V8
 * checksums (a damaged byte there went unnoticed), and costs init 15 MiB of anonymous memory
 * (RssAnon 37.6 against 22.8 MiB after a reboot); READY came no later without it (three reboots
 * each, alternating: 18.3/18.0/19.7 s with, 20.5/17.3/15.0 s without). A built-in first loaded
 * after the start (node:http for the API) is compiled then.
 */
export function snapshotConfig(bundle: string): string {
  return JSON.stringify({ builder: bundle, withoutCodeCache: true });
}

function runBuilder(o: SnapshotBuildOptions, output: string, configFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.nodeBinary, [...(o.buildFlags ?? SNAPSHOT_BUILD_FLAGS), '--snapshot-blob', output, '--build-snapshot-config', configFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      // Preloaded modules or loaders would be built into the heap, and the start has none.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stderr = Buffer.alloc(0);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]).subarray(-STDERR_TAIL_BYTES);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? SNAPSHOT_BUILD_TIMEOUT_MS);
    child.once('spawn', () => {
      try {
        // Containers and the API come first: the build is only for the next boot.
        if (child.pid !== undefined) setPriority(child.pid, 19);
      } catch {
        // The child may already have ended; its exit says how.
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new BerthError('INIT_SNAPSHOT_FAILED', `Cannot run ${o.nodeBinary} to build the startup snapshot: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const tail = stderr.toString('utf8').trim().split('\n').slice(-4).join(' | ');
        reject(new BerthError('INIT_SNAPSHOT_FAILED', `Building the startup snapshot of ${o.bundle} ended with ${signal ?? `exit code ${code}`}: ${tail || 'no output'}`));
      }
    });
  });
}

/**
 * Builds the snapshot and keeps it as the only file of `keptDir`, crash-safely: built under a
 * temporary name, synced, renamed; a torn build leaves the old snapshot or none.
 */
export async function buildStartupSnapshot(o: SnapshotBuildOptions): Promise<SnapshotBuilt> {
  await mkdir(o.keptDir, { recursive: true });
  const final = path.join(o.keptDir, o.fileName);
  const temp = path.join(o.keptDir, `.${o.fileName}.tmp`);
  const config = path.join(o.keptDir, `.${o.fileName}.config.json`);
  let bytes = 0;
  try {
    await writeFile(config, snapshotConfig(o.bundle));
    await runBuilder(o, temp, config);
    const handle = await open(temp, 'r+');
    try {
      bytes = (await handle.stat()).size;
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, final);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    await rm(config, { force: true });
  }
  await syncDirectory(o.keptDir);
  return { bytes, removed: await dropKeptSnapshots(o.keptDir, o.fileName) };
}

/** Removes every file of `keptDir` but `keep` (none when undefined); says how many went. A missing directory has none. */
export async function dropKeptSnapshots(keptDir: string, keep?: string): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(keptDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const entry of entries) {
    if (entry === keep) continue;
    await rm(path.join(keptDir, entry), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
