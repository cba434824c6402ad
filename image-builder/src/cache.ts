/**
 * The build cache: each stage's output lives in out/cache/<stage>/<key>/, where the key
 * is a content hash of everything the stage reads. A stage writes into a temporary
 * directory and is renamed into place only when it completed, so an interrupted build
 * never leaves a half-written entry that a later build would trust.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathExists } from '../../lib/sys/path-exists.ts';

/** Hashes JSON-able inputs into a stage key. */
export function hashInputs(inputs: unknown): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 24);
}

/** Hashes the contents of files and directory trees (sorted, with relative names). */
export async function hashPaths(paths: readonly string[], root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (p: string): Promise<void> => {
    const info = await stat(p);
    if (info.isDirectory()) {
      for (const name of (await readdir(p)).sort()) {
        if (name === 'node_modules' || name === 'test' || name === 'tap-snapshots') continue;
        await walk(path.join(p, name));
      }
    } else {
      hash.update(path.relative(root, p)).update('\0').update(String(info.mode & 0o777)).update('\0');
      hash.update(await readFile(p)).update('\0');
    }
  };
  for (const p of paths) await walk(path.resolve(root, p));
  return hash.digest('hex').slice(0, 24);
}

export interface StageResult {
  dir: string;
  cached: boolean;
}

export class BuildCache {
  constructor(private readonly root: string) {}

  /** Returns the stage's directory, running `produce` into a fresh temp dir when absent. */
  async stage(name: string, key: string, produce: (dir: string) => Promise<void>): Promise<StageResult> {
    const final = path.join(this.root, name, key);
    if (await pathExists(path.join(final, '.complete'))) return { dir: final, cached: true };
    const temp = `${final}.tmp-${process.pid}`;
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp, { recursive: true });
    try {
      await produce(temp);
      await writeMarker(temp);
      await rm(final, { recursive: true, force: true });
      await rename(temp, final);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
    await this.prune(name, key);
    return { dir: final, cached: false };
  }

  /** Keeps the newest few entries of a stage so the cache does not grow without bound. */
  private async prune(name: string, keep: string): Promise<void> {
    const dir = path.join(this.root, name);
    const entries = await readdir(dir);
    const dated = await Promise.all(
      entries.filter((e) => e !== keep && !e.includes('.tmp-')).map(async (e) => ({ e, t: (await stat(path.join(dir, e))).mtimeMs })),
    );
    dated.sort((a, b) => b.t - a.t);
    for (const { e } of dated.slice(2)) await rm(path.join(dir, e), { recursive: true, force: true });
  }
}

async function writeMarker(dir: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(dir, '.complete'), '');
}
