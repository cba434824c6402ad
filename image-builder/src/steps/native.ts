/**
 * Stage 3b: berth's small static helpers in C (`native/*.c`: PID 1's supervisor, the
 * per-container monitor), compiled with the build host's gcc into
 * /usr/lib/berth/<name> of the root. The argv is a pure function; the stage's key covers
 * the sources, the flags and the compiler, so the same inputs give the same bytes.
 * Effects: reads native/, runs gcc into the stage's cache directory.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { BerthError } from '../../../lib/errors.ts';
import { hashInputs, hashPaths } from '../cache.ts';
import type { BuildContext } from './context.ts';

/** Where the C sources live, relative to the repository root. */
export const NATIVE_DIR = 'native';

/**
 * Compiler flags: static (the root has no build-time libc contract with the helpers),
 * small, every warning an error, stripped, and no build path in the output
 * (-ffile-prefix-map) so two checkouts in different places build the same bytes.
 */
export function nativeCompileFlags(repoRoot: string): string[] {
  return ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror', '-std=gnu11', `-ffile-prefix-map=${repoRoot}=.`, '-Wl,--build-id=none'];
}

/** The gcc argv (without the program) that compiles one helper: `native/<name>.c` -> `<outDir>/<name>`. */
export function nativeCompileArgv(repoRoot: string, sourceName: string, outDir: string): string[] {
  if (!/^[a-z0-9][a-z0-9-]*\.c$/.test(sourceName)) {
    throw new BerthError('BUILD_STEP_FAILED', `Native source '${sourceName}' is not a kebab-case .c file name; rename it under ${NATIVE_DIR}/`);
  }
  return [...nativeCompileFlags(repoRoot), '-o', path.join(outDir, nativeBinaryName(sourceName)), path.join(repoRoot, NATIVE_DIR, sourceName)];
}

/** The installed name of a helper: the source's name without `.c`. */
export function nativeBinaryName(sourceName: string): string {
  return sourceName.replace(/\.c$/, '');
}

/** The helpers' sources, sorted (C files only; headers are inputs of the key). */
export async function listNativeSources(repoRoot: string): Promise<string[]> {
  try {
    return (await readdir(path.join(repoRoot, NATIVE_DIR))).filter((n) => n.endsWith('.c')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export interface NativeStage {
  /** Directory holding one executable per source, named after it. */
  dir: string;
  /** The executables' names, sorted. */
  names: string[];
  key: string;
  cached: boolean;
}

/** Compiles every `native/*.c` (a statically linked executable each); the root image installs them at /usr/lib/berth/<name>. */
export async function buildNative(ctx: BuildContext): Promise<NativeStage> {
  const sources = await listNativeSources(ctx.repoRoot);
  const compiler = (await $`gcc --version`.quiet()).stdout.split('\n')[0] ?? '';
  const libc = (await $`ldd --version`.quiet().nothrow()).stdout.split('\n')[0] ?? '';
  const key = hashInputs({
    stage: 'native',
    sources: sources.length > 0 ? await hashPaths([NATIVE_DIR], ctx.repoRoot) : '',
    // Flags with the build path replaced: the output does not depend on where the checkout is.
    flags: nativeCompileFlags('<repo>'),
    compiler,
    libc,
    code: await hashPaths(['image-builder/src/steps/native.ts'], ctx.repoRoot),
  });
  const result = await ctx.cache.stage('native', key, async (dir) => {
    for (const source of sources) {
      const argv = nativeCompileArgv(ctx.repoRoot, source, dir);
      const out = await $({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', SOURCE_DATE_EPOCH: String(ctx.epoch) } })`gcc ${argv}`.quiet().nothrow();
      if (out.exitCode !== 0) {
        throw new BerthError('BUILD_STEP_FAILED', `gcc could not compile ${NATIVE_DIR}/${source} (exit ${String(out.exitCode)}): fix the source\n${out.stderr.trim()}`);
      }
    }
  });
  return { dir: result.dir, names: sources.map(nativeBinaryName), key, cached: result.cached };
}
