/**
 * node:http and node:https, loaded when first used rather than when a module is evaluated.
 * Init's bundle is evaluated at the build of its V8 startup snapshot (init/src/startup-snapshot.ts),
 * and Node cannot serialise these two modules (their HTTP parsers hold native state: the
 * snapshot builder aborts in CheckGlobalAndEternalHandles); no other module init loads has
 * that limit. Every effect on a socket happens long after evaluation anyway.
 */
export function httpModule(): typeof import('node:http') {
  return process.getBuiltinModule('node:http');
}

export function httpsModule(): typeof import('node:https') {
  return process.getBuiltinModule('node:https');
}
