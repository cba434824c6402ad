/**
 * Runs the ESP steps of a stage plan (remove an entry, install a kernel or initrd,
 * write the new entry, sync) and entry renames (bless, mark bad) on the mounted EFI
 * system partition. Every file lands through write-temp, fsync, rename, so systemd-boot
 * never sees a half-written entry or kernel. Effects: files below `espRoot` only;
 * the slot's block device steps (write-root, verify-root) belong to the apply worker.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { replaceFileAtomically, syncDirectory } from '../../lib/sys/atomic-file.ts';
import { ESP_PATHS } from '../../lib/layout.ts';
import type { EntryRename, StageStep } from './core/slots.ts';
import { PayloadCheck } from './payload-check.ts';

export interface EspContext {
  /** Where the ESP is mounted (/efi on a berth machine, a temp dir in tests). */
  espRoot: string;
  /** The directory of the downloaded bundle (payload sources). */
  bundleDir: string;
}

/** The ESP step kinds this module runs. */
export type EspStep = Extract<StageStep, { kind: 'remove-entry' | 'sync-esp' | 'install-file' | 'write-entry' }>;

export function isEspStep(step: StageStep): step is EspStep {
  return step.kind === 'remove-entry' || step.kind === 'sync-esp' || step.kind === 'install-file' || step.kind === 'write-entry';
}

/** Resolves an ESP-relative path, refusing anything that leaves the ESP. */
function inside(root: string, relative: string): string {
  const base = resolve(root);
  const full = resolve(base, relative);
  if (!full.startsWith(base + sep)) throw new BerthError('UPDATER_ESP_PATH', `Refusing ESP path '${relative}': it leaves ${root}`);
  return full;
}

async function replaceFile(target: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await replaceFileAtomically(target, write, { mode: 0o644 });
}

/** Copies a payload onto the ESP, checking its size and sha256 on the way. */
async function installFile(ctx: EspContext, step: Extract<StageStep, { kind: 'install-file' }>): Promise<void> {
  const source = inside(ctx.bundleDir, step.source);
  const target = inside(ctx.espRoot, step.target);
  await replaceFile(target, async (handle) => {
    const check = new PayloadCheck(`${step.source} for ${step.target}`, { size: step.size, sha256: step.sha256 });
    for await (const chunk of createReadStream(source, { highWaterMark: 1024 * 1024 })) {
      const bytes = chunk as Buffer;
      check.update(bytes);
      await handle.write(bytes);
    }
    check.finish();
  });
}

/** Runs one ESP step. Throws UPDATER_ESP_WRITE_FAILED (or the payload check's code) with the step named. */
export async function runEspStep(ctx: EspContext, step: EspStep): Promise<void> {
  try {
    switch (step.kind) {
      case 'remove-entry': {
        const path = inside(ctx.espRoot, step.path);
        await unlink(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        await syncDirectory(dirname(path));
        return;
      }
      case 'sync-esp': {
        // vfat has no journal: sync every directory berth writes to, then the root.
        const dirs = [ESP_PATHS.entriesDir, 'berth/a', 'berth/b', 'berth', 'loader'].map((d) => inside(ctx.espRoot, d));
        for (const dir of [...dirs, resolve(ctx.espRoot)]) {
          await syncDirectory(dir).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
          });
        }
        return;
      }
      case 'install-file':
        return await installFile(ctx, step);
      case 'write-entry':
        return await replaceFile(inside(ctx.espRoot, step.path), async (handle) => {
          await handle.writeFile(step.content);
        });
    }
  } catch (error) {
    if (error instanceof BerthError) throw error;
    const full = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? ': the ESP is full' : '';
    throw new BerthError('UPDATER_ESP_WRITE_FAILED', `ESP step ${step.kind} failed${full}`, { cause: error });
  }
}

/** Applies entry renames (blessing, marking bad), each durable before the next. */
export async function renameEntries(espRoot: string, renames: readonly EntryRename[]): Promise<void> {
  for (const { from, to } of renames) {
    const source = inside(espRoot, from);
    try {
      await rename(source, inside(espRoot, to));
      await syncDirectory(dirname(source));
    } catch (error) {
      throw new BerthError('UPDATER_ESP_WRITE_FAILED', `Cannot rename boot entry ${from} to ${to}`, { cause: error });
    }
  }
}

/** The names in loader/entries ([] when the directory does not exist yet). */
export async function listEntryNames(espRoot: string): Promise<string[]> {
  try {
    return (await readdir(join(espRoot, ESP_PATHS.entriesDir))).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BerthError('UPDATER_ESP_READ_FAILED', `Cannot list ${ESP_PATHS.entriesDir} on the ESP`, { cause: error });
  }
}
