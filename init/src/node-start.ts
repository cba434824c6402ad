/**
 * Where this Node process's start-up went before berth's own code ran, on Node's clock
 * (milliseconds since the process started): V8 and Node's bootstrap, then the module loader
 * reaching berth.mjs. Evaluated first by the loader (boot.ts imports it before anything else),
 * so `entryMs` is when berth's code began; init prints both in its "Init starting" line. A
 * start from init's startup snapshot reads it in the snapshot's main (main.ts).
 */
export interface NodeStartup {
  /** Node's own bootstrap done (performance.nodeTiming.bootstrapComplete). */
  bootstrapMs: number;
  /** berth.mjs's first module evaluated, or the snapshot's main called. */
  entryMs: number;
}

export function readNodeStartup(): NodeStartup {
  return { bootstrapMs: Math.round(performance.nodeTiming.bootstrapComplete), entryMs: Math.round(performance.now()) };
}

export const nodeStartup: NodeStartup = readNodeStartup();
