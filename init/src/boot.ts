/**
 * Entry point of /usr/lib/berth/berth.mjs: turns on V8's compile cache for init's Node,
 * then imports main.ts (berth-init.mjs). The cache must be on before the big module is
 * compiled, so this entry stays tiny (its imports form a small shared chunk). Init's cache is a tmpfs
 * copy of the one on /var (PATHS.compileCacheRun, filled by the initramfs; main.ts saves
 * it back once the boot settled). Children (`probe`, the slot writer) run without it.
 */
// First: it reads Node's clock as berth's code begins.
import './node-start.ts';
import { PATHS } from '../../lib/layout.ts';
import { compileCache } from './compile-cache.ts';

// Init mode, as main.ts decides it: no arguments and started by berth-pid1 (PID 1).
if (process.argv.length === 2 && process.ppid === 1) compileCache.enableCompileCache(PATHS.compileCacheRun);
await import('./main.ts');
