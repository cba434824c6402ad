import t from 'tap';
import { build } from 'esbuild';
import { BUNDLE_ENTRIES, BUNDLE_SPLITTING, isBundleOutput } from '../../../image-builder/src/index.ts';

// The image builder bundles init/src/boot.ts and main.ts the same way; build-only packages must never
// reach the runtime bundle, and what only the probe child needs must stay out of the entry.
void t.test('boot.ts and main.ts bundle into berth.mjs, berth-init.mjs and lazy chunks without build-only packages', async (t) => {
  const result = await build({
    entryPoints: BUNDLE_ENTRIES,
    outdir: 'out-test',
    ...BUNDLE_SPLITTING,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    write: false,
    metafile: true,
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

  const outputs = Object.entries(result.metafile.outputs);
  const names = outputs.map(([file]) => file.replace(/^out-test\//, ''));
  t.ok(names.every(isBundleOutput), `every output is copied into the root: ${names.join(' ')}`);
  const entry = outputs.find(([file]) => file === 'out-test/berth.mjs')?.[1];
  t.ok(entry, 'the entry is berth.mjs');
  t.same(Object.keys(entry?.inputs ?? {}), ['init/src/boot.ts'], 'berth.mjs is the loader alone: the compile cache is on before the rest is compiled');
  t.ok((entry?.bytes ?? Infinity) < 4096, `berth.mjs is small (${entry?.bytes} bytes)`);
  t.ok(entry?.imports.some((i) => i.path === 'out-test/berth-init.mjs' && i.kind === 'dynamic-import'), 'berth.mjs imports berth-init.mjs after turning the cache on');
  const initEntry = outputs.find(([file]) => file === 'out-test/berth-init.mjs')?.[1];
  const inEntry = Object.keys(initEntry?.inputs ?? {});
  t.ok(inEntry.includes('init/src/main.ts'), 'init is in berth-init.mjs');
  t.same(inEntry.filter((path) => path.includes('systeminformation') || path === 'init/src/api/probe.ts'), [], 'the probe and systeminformation are not in what PID 1 loads');
  const probeChunk = outputs.find(([, output]) => Object.keys(output.inputs).includes('init/src/api/probe.ts'));
  t.match(probeChunk?.[0] ?? '', /^out-test\/berth-probe-[A-Z0-9]+\.mjs$/, 'the probe is a chunk of its own, loaded by `berth.mjs probe`');
});
