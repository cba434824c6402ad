/**
 * Stage 3: berth's runtime code (init, runtime, updater and lib) bundled by esbuild, with source
 * maps. Two builds:
 * - berth.mjs, the loader (init/src/boot.ts, ESM), with what only `berth.mjs probe` loads (the
 *   status probe and systeminformation, half of the code) in a `berth-probe-*.mjs` chunk, so
 *   PID 1 neither parses nor runs it;
 * - berth-init.cjs, init's main (init/src/main.ts) as one CommonJS file: the loader compiles it
 *   with vm.Script and a V8 code cache taken after the boot ran (init/src/code-cache.ts), which
 *   an ES module cannot have (Node's compile cache of a module holds only its top level).
 * Effects: esbuild writes the files and their maps. Build-only packages must never reach the
 * bundle, nor node:http(s) the top level of berth-init.cjs (init's startup snapshot): the
 * metafiles are checked.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { BerthError } from '../../../lib/errors.ts';
import { hashInputs, hashPaths } from '../cache.ts';
import type { BuildContext } from './context.ts';

/** Source trees that end up in the bundle. */
export const BUNDLE_SOURCES = ['lib', 'init/src', 'runtime/src', 'updater/src', 'package-lock.json'];
/** Output name → source: the loader berth.mjs (lib/layout.ts PATHS.bundle), ESM with its lazily imported chunks. */
export const BUNDLE_ENTRIES = { berth: 'init/src/boot.ts' } as const;
/** Output name → source: init's main, one CommonJS file (berth-init.cjs) that the loader compiles with its code cache. */
export const INIT_BUNDLE_ENTRIES = { 'berth-init': 'init/src/main.ts' } as const;
const BUNDLE_NAME = 'berth';
/** esbuild options for the lazily loaded chunks; every output file starts with "berth". */
export const BUNDLE_SPLITTING = { splitting: true, chunkNames: `${BUNDLE_NAME}-[name]-[hash]`, outExtension: { '.js': '.mjs' } } as const;

/** Whether a file of the bundle stage's directory goes into the root (the entry, its chunks, their maps). */
export function isBundleOutput(name: string): boolean {
  return name.startsWith(BUNDLE_NAME) && /\.[cm]js(\.map)?$/.test(name);
}
/**
 * Built-ins Node's snapshot builder cannot hold (their parsers are native state): init's
 * startup snapshot evaluates berth-init.cjs there, so it must load them lazily (lib/sys/lazy-builtins.ts).
 */
export const UNSNAPSHOTTABLE_BUILTINS = ['http', 'https', 'http2'].flatMap((name) => [name, `node:${name}`]);
/**
 * Added to berth-init.cjs's first line, after its "use strict" (an esbuild banner would come
 * before it and turn strict mode off): Node's snapshot builder (init's startup snapshot) runs
 * the file with require but no module object, which the bundle's top level assigns to. Where a
 * CommonJS wrapper gives one, the `var` shares the parameter's binding and keeps it. On the
 * same line, so the source map's lines stay right.
 */
export const INIT_MODULE_OBJECT = "var module = typeof module === 'object' && module !== null ? module : { exports: {} };";

/** Puts INIT_MODULE_OBJECT after the bundle's "use strict". */
export function withModuleObject(bundle: string): string {
  const directive = '"use strict";\n';
  if (!bundle.startsWith(directive)) throw new BerthError('BUILD_STEP_FAILED', 'berth-init.cjs does not start with "use strict": esbuild\'s CommonJS output changed, see INIT_MODULE_OBJECT');
  return `"use strict"; ${INIT_MODULE_OBJECT}\n${bundle.slice(directive.length)}`;
}

async function giveModuleObject(file: string): Promise<void> {
  const { readFile, writeFile } = await import('node:fs/promises');
  await writeFile(file, withModuleObject(await readFile(file, 'utf8')));
}
const FORBIDDEN_IN_BUNDLE = ['node_modules/zx/', 'node_modules/esbuild/', 'node_modules/tap/', 'image-builder/', 'qemu-tests/'];

/** esbuild options both builds share. */
function commonOptions(target: string) {
  return { bundle: true, platform: 'node', target, sourcemap: 'linked', sourcesContent: false, metafile: true, legalComments: 'none', logLevel: 'silent' } as const;
}

/** The built-ins a bundle requires when it is evaluated that a startup snapshot cannot hold. */
export function unsnapshottableImports(metafile: { outputs: Record<string, { imports: { path: string; external?: boolean }[] }> }): string[] {
  const paths = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external === true).map((i) => i.path));
  return [...new Set(paths.filter((p) => UNSNAPSHOTTABLE_BUILTINS.includes(p)))];
}

function checkNoBuildOnlyCode(inputs: string[]): void {
  const leaked = inputs.filter((input) => FORBIDDEN_IN_BUNDLE.some((f) => input.includes(f)));
  if (leaked.length > 0) {
    throw new BerthError('BUILD_STEP_FAILED', `Build-only code reached the runtime bundle: ${leaked.join(', ')}; import it only from image-builder or tests`);
  }
}

export async function bundleBerth(
  ctx: BuildContext,
  entries: Record<string, string> = BUNDLE_ENTRIES,
  initEntries: Record<string, string> = INIT_BUNDLE_ENTRIES,
): Promise<{ file: string; key: string; cached: boolean }> {
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
  const key = hashInputs({
    stage: 'bundle',
    sources: await hashPaths(existing, ctx.repoRoot),
    entries,
    initEntries,
    node: ctx.profile.node,
    code: await hashPaths(['image-builder/src/steps/bundle.ts'], ctx.repoRoot),
  });
  const result = await ctx.cache.stage('bundle', key, async (dir) => {
    const target = `node${ctx.profile.node.split('.')[0]}`;
    const resolve = (list: Record<string, string>) => Object.fromEntries(Object.entries(list).map(([name, source]) => [name, path.resolve(ctx.repoRoot, source)]));
    const loader = await build({
      ...commonOptions(target),
      entryPoints: resolve(entries),
      outdir: dir,
      ...BUNDLE_SPLITTING,
      format: 'esm',
      // Bundled CommonJS dependencies still call require() for Node built-ins.
      banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    });
    const init = await build({
      ...commonOptions(target),
      entryPoints: resolve(initEntries),
      outdir: dir,
      outExtension: { '.js': '.cjs' },
      format: 'cjs',
    });
    await giveModuleObject(path.join(dir, 'berth-init.cjs'));
    // CommonJS has no import.meta: code that needs it must not end up in berth-init.cjs silently empty.
    const importMeta = init.warnings.filter((w) => /import\.meta/.test(w.text));
    if (importMeta.length > 0) {
      throw new BerthError(
        'BUILD_STEP_FAILED',
        `berth-init.cjs is CommonJS, where import.meta is empty: ${importMeta.map((w) => `${w.location?.file}:${w.location?.line}`).join(', ')}; pass the path in instead`,
      );
    }
    checkNoBuildOnlyCode([...Object.keys(loader.metafile.inputs), ...Object.keys(init.metafile.inputs)]);
    const unsnapshottable = unsnapshottableImports(init.metafile);
    if (unsnapshottable.length > 0) {
      throw new BerthError(
        'BUILD_STEP_FAILED',
        `berth-init.cjs loads ${unsnapshottable.join(', ')} when evaluated, which Node cannot put in init's startup snapshot: load it when first used (lib/sys/lazy-builtins.ts)`,
      );
    }
  });
  return { file: path.join(result.dir, `${BUNDLE_NAME}.mjs`), key, cached: result.cached };
}
