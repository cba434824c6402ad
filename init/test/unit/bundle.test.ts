import t from 'tap';
import { build } from 'esbuild';

// The image builder bundles init/src/main.ts the same way; build-only packages must never
// reach the runtime bundle.
void t.test('main.ts bundles into one ESM file without build-only packages', async (t) => {
  const result = await build({
    entryPoints: ['init/src/main.ts'],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    write: false,
    metafile: true,
    outfile: 'berth.mjs',
    logLevel: 'silent',
  });
  t.same(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  const forbidden = inputs.filter((path) => /node_modules\/(zx|esbuild|tap|tsx)\//.test(path));
  t.same(forbidden, [], 'no zx, esbuild or test tools in the bundle');
  // systeminformation is a runtime dependency, but only for the status probe, which runs in a child
  // process (`berth.mjs probe`) so its execSync calls cannot stall init.
  const importers = Object.entries(result.metafile.inputs)
    .filter(([path, input]) => !path.startsWith('node_modules/systeminformation/') && input.imports.some((i) => i.path.startsWith('node_modules/systeminformation/')))
    .map(([path]) => path);
  t.same(importers, ['init/src/api/probe.ts'], 'systeminformation is imported by the status probe only');
  t.ok(inputs.includes('init/src/main.ts'));
  t.equal(result.outputFiles.length, 1);
});
