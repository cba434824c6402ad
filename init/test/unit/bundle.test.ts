import t from 'tap';
import { build } from 'esbuild';
import { BUNDLE_ENTRIES, BUNDLE_SPLITTING, INIT_BUNDLE_ENTRIES, isBundleOutput, unsnapshottableImports } from '../../../image-builder/src/index.ts';

// The image builder bundles init/src/boot.ts (the loader, ESM) and main.ts (init, one CommonJS file)
// the same way; build-only packages must never reach the runtime bundle, and what only the probe
// child needs must stay out of what PID 1 loads.
const common = { bundle: true, platform: 'node', target: 'node24', write: false, metafile: true, logLevel: 'silent', outdir: 'out-test' } as const;

void t.test('boot.ts bundles into berth.mjs and a lazy probe chunk, main.ts into berth-init.cjs, without build-only packages', async (t) => {
  const loader = await build({ ...common, entryPoints: BUNDLE_ENTRIES, ...BUNDLE_SPLITTING, format: 'esm' });
  const init = await build({ ...common, entryPoints: INIT_BUNDLE_ENTRIES, outExtension: { '.js': '.cjs' }, format: 'cjs' });
  t.same([...loader.errors, ...init.errors], []);
  t.same(
    init.warnings.filter((w) => /import\.meta/.test(w.text)),
    [],
    'nothing in init uses import.meta, which CommonJS leaves empty',
  );
  const allInputs = { ...loader.metafile.inputs, ...init.metafile.inputs };
  const forbidden = Object.keys(allInputs).filter((path) => /node_modules\/(zx|esbuild|tap|tsx)\//.test(path));
  t.same(forbidden, [], 'no zx, esbuild or test tools in the bundle');
  // systeminformation is a runtime dependency, but only for the status probe, which runs in a child
  // process (`berth.mjs probe`) so its execSync calls cannot stall init.
  const importers = Object.entries(allInputs)
    .filter(([path, input]) => !path.startsWith('node_modules/systeminformation/') && input.imports.some((i) => i.path.startsWith('node_modules/systeminformation/')))
    .map(([path]) => path);
  t.same(importers, ['init/src/api/probe.ts'], 'systeminformation is imported by the status probe only');

  const outputs = [...Object.entries(loader.metafile.outputs), ...Object.entries(init.metafile.outputs)];
  const names = outputs.map(([file]) => file.replace(/^out-test\//, ''));
  t.ok(names.every(isBundleOutput), `every output is copied into the root: ${names.join(' ')}`);
  const entry = loader.metafile.outputs['out-test/berth.mjs'];
  t.ok(entry, 'the entry is berth.mjs');
  t.notOk(
    Object.keys(entry?.inputs ?? {}).some((path) => path === 'init/src/main.ts' || path.startsWith('runtime/') || path.startsWith('updater/')),
    'berth.mjs is the loader: init, the runtime and the updater are in berth-init.cjs',
  );
  t.ok((entry?.bytes ?? Infinity) < 16_384, `berth.mjs is small (${entry?.bytes} bytes)`);
  const initEntry = init.metafile.outputs['out-test/berth-init.cjs'];
  const inInit = Object.keys(initEntry?.inputs ?? {});
  t.ok(inInit.includes('init/src/main.ts'), 'init is in berth-init.cjs');
  t.same(unsnapshottableImports(init.metafile), [], 'berth-init.cjs loads node:http and node:https only when used: its startup snapshot cannot hold them');
  t.same(
    unsnapshottableImports({
      outputs: {
        a: {
          imports: [
            { path: 'node:https', external: true },
            { path: 'node:fs', external: true },
            { path: 'http', external: true },
          ],
        },
      },
    }),
    ['node:https', 'http'],
    'the check names what a bundle would load',
  );
  t.same(
    inInit.filter((path) => path.includes('systeminformation') || path === 'init/src/api/probe.ts'),
    [],
    'the probe and systeminformation are not in what PID 1 loads',
  );
  const probeChunk = Object.entries(loader.metafile.outputs).find(([, output]) => Object.keys(output.inputs).includes('init/src/api/probe.ts'));
  t.match(probeChunk?.[0] ?? '', /^out-test\/berth-probe-[A-Z0-9]+\.mjs$/, 'the probe is a chunk of its own, loaded by `berth.mjs probe`');
  t.ok(
    entry?.imports.some((i) => i.path === probeChunk?.[0] && i.kind === 'dynamic-import'),
    'berth.mjs imports it only for `probe`',
  );
});
