/**
 * Stage 3: one esbuild bundle of berth's runtime code (init, runtime, updater and lib)
 * with a source map, so Node's --enable-source-maps prints TypeScript stack traces.
 * Effects: esbuild writes berth.mjs and berth.mjs.map. Build-only packages must never
 * reach the bundle: the metafile is checked.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { BerthError } from '../../../lib/errors.ts';
import { hashInputs, hashPaths } from '../cache.ts';
import type { BuildContext } from './context.ts';

/** Source trees that end up in the bundle. */
export const BUNDLE_SOURCES = ['lib', 'init/src', 'runtime/src', 'updater/src', 'package-lock.json'];
export const BUNDLE_ENTRY = 'init/src/main.ts';
const FORBIDDEN_IN_BUNDLE = ['node_modules/zx/', 'node_modules/esbuild/', 'node_modules/tap/', 'image-builder/', 'qemu-tests/'];

export async function bundleBerth(ctx: BuildContext, entry = BUNDLE_ENTRY): Promise<{ file: string; key: string; cached: boolean }> {
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
  const key = hashInputs({ stage: 'bundle', sources: await hashPaths(existing, ctx.repoRoot), entry, node: ctx.profile.node });
  const result = await ctx.cache.stage('bundle', key, async (dir) => {
    const outfile = path.join(dir, 'berth.mjs');
    const built = await build({
      entryPoints: [path.resolve(ctx.repoRoot, entry)],
      outfile,
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
  return { file: path.join(result.dir, 'berth.mjs'), key, cached: result.cached };
}
