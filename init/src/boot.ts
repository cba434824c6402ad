/**
 * Entry point of /usr/lib/berth/berth.mjs, the loader. `berth.mjs probe` imports the status
 * probe (a chunk of its own: systeminformation is half the code, and only that child needs it);
 * every other command runs init's bundle, berth-init.cjs beside this file (main.ts), compiled
 * through code-cache.ts. Init (no arguments, started by berth-pid1) compiles it with the code
 * cache its previous boot kept: PATHS.compileCacheRun, a tmpfs copy of the one on /var that the
 * initramfs makes before Node starts; main.ts saves the cache back once the boot settled.
 * Children (the slot writer) compile without it.
 */
// First: it reads Node's clock as berth's code begins.
import { nodeStartup } from './node-start.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PATHS } from '../../lib/layout.ts';
import { loadBundle } from './code-cache.ts';
import { mapStackTraces } from './stack-traces.ts';
import type { InitBundle } from './main.ts';

const argv = process.argv.slice(2);
if (argv[0] === 'probe') {
  // The status facts, as JSON: a child of init, so systeminformation's execSync cannot stall init.
  const { takeProbeSnapshot } = await import('./api/probe.ts');
  process.stdout.write(`${JSON.stringify(await takeProbeSnapshot())}\n`);
} else {
  const initMode = argv.length === 0 && process.ppid === 1;
  const initBundle = path.join(path.dirname(fileURLToPath(import.meta.url)), 'berth-init.cjs');
  mapStackTraces(initBundle);
  const bundle = loadBundle<InitBundle>(initBundle, initMode ? PATHS.compileCacheRun : undefined);
  bundle.exports.main(argv, { nodeStartup, codeCache: bundle });
}
