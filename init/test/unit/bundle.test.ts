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
  const forbidden = inputs.filter((path) => /node_modules\/(zx|esbuild|systeminformation|tap|tsx)\//.test(path));
  t.same(forbidden, [], 'no zx, esbuild, systeminformation or test tools in the bundle');
  t.ok(inputs.includes('init/src/main.ts'));
  t.equal(result.outputFiles.length, 1);
});
