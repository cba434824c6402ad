/**
 * Stage 3: one esbuild bundle of berth's runtime code (init, runtime, updater and lib)
 * with source maps, so Node's --enable-source-maps prints TypeScript stack traces.
 * Code splitting: what only a subcommand's child loads (the status probe and
 * systeminformation, half of the code) goes into `berth-*.mjs` chunks beside berth.mjs,
 * so PID 1 neither parses nor runs it at boot (Node's start-up under TCG is most of
 * the boot). berth.mjs itself is a tiny loader (init/src/boot.ts) that turns on V8's
 * compile cache before it imports berth-init.mjs (init/src/main.ts), the real entry.
 * Effects: esbuild writes berth.mjs, berth-init.mjs, their chunks and their maps. Build-only
 * packages must never reach the bundle: the metafile is checked.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { BerthError } from '../../../lib/errors.ts';
import { hashInputs, hashPaths } from '../cache.ts';
import type { BuildContext } from './context.ts';

/** Source trees that end up in the bundle. */
export const BUNDLE_SOURCES = ['lib', 'init/src', 'runtime/src', 'updater/src', 'package-lock.json'];
/** Output name → source: the loader berth.mjs (lib/layout.ts PATHS.bundle) and init's main, which it imports. */
export const BUNDLE_ENTRIES = { berth: 'init/src/boot.ts', 'berth-init': 'init/src/main.ts' } as const;
const BUNDLE_NAME = 'berth';
/** esbuild options for the lazily loaded chunks; every output file starts with "berth". */
export const BUNDLE_SPLITTING = { splitting: true, chunkNames: `${BUNDLE_NAME}-[name]-[hash]`, outExtension: { '.js': '.mjs' } } as const;

/** Whether a file of the bundle stage's directory goes into the root (the entry, its chunks, their maps). */
export function isBundleOutput(name: string): boolean {
  return name.startsWith(BUNDLE_NAME) && (name.endsWith('.mjs') || name.endsWith('.mjs.map'));
}
const FORBIDDEN_IN_BUNDLE = ['node_modules/zx/', 'node_modules/esbuild/', 'node_modules/tap/', 'image-builder/', 'qemu-tests/'];

export async function bundleBerth(ctx: BuildContext, entries: Record<string, string> = BUNDLE_ENTRIES): Promise<{ file: string; key: string; cached: boolean }> {
  const existing = [];
  const { access } = await import('node:fs/promises');
  for (const p of BUNDLE_SOURCES) {
    try {
      await access(path.join(ctx.repoRoot, p));
      existing.push(p);
    } catch {
      // A component that does not exist yet contributes nothing.
    }
  }
  // This file's own options (splitting, names) shape the output too.
  const key = hashInputs({ stage: 'bundle', sources: await hashPaths(existing, ctx.repoRoot), entries, node: ctx.profile.node, code: await hashPaths(['image-builder/src/steps/bundle.ts'], ctx.repoRoot) });
  const result = await ctx.cache.stage('bundle', key, async (dir) => {
    const built = await build({
      entryPoints: Object.fromEntries(Object.entries(entries).map(([name, source]) => [name, path.resolve(ctx.repoRoot, source)])),
      outdir: dir,
      ...BUNDLE_SPLITTING,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${ctx.profile.node.split('.')[0]}`,
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: true,
      legalComments: 'none',
      logLevel: 'silent',
      // Bundled CommonJS dependencies still call require() for Node built-ins.
      banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    });
    const leaked = Object.keys(built.metafile.inputs).filter((input) => FORBIDDEN_IN_BUNDLE.some((f) => input.includes(f)));
    if (leaked.length > 0) {
      throw new BerthError('BUILD_STEP_FAILED', `Build-only code reached the runtime bundle: ${leaked.join(', ')}; import it only from image-builder or tests`);
    }
  });
  return { file: path.join(result.dir, `${BUNDLE_NAME}.mjs`), key, cached: result.cached };
}
