/**
 * TypeScript positions in init's stack traces. Node's --enable-source-maps maps only what its
 * own loaders compiled; init's bundle is compiled by code-cache.ts through vm.Script, so its
 * frames are mapped here, from the bundle's source map beside it, read the first time a stack
 * naming the bundle is formatted (never on a boot that throws nothing). Node still formats the
 * stack; only `<bundle>:<line>:<column>` is rewritten to `init/src/….ts:<line>:<column>`.
 */
import { readFileSync } from 'node:fs';
import nodeModule from 'node:module';

type SourceMap = InstanceType<typeof nodeModule.SourceMap>;

/** A source of the map as a repository path: esbuild writes them relative to the bundle's directory. */
export function repositoryPath(source: string): string {
  return source.replace(/^(\.\.?\/)+/, '');
}

/** Rewrites every `<bundleFile>:<line>:<column>` in `stack` through `map` (positions it cannot place stay). */
export function mapBundlePositions(stack: string, bundleFile: string, map: SourceMap): string {
  const escaped = bundleFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return stack.replace(new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g'), (whole, line: string, column: string) => {
    const origin = map.findOrigin(Number(line), Number(column)) as { fileName?: string; lineNumber?: number; columnNumber?: number };
    return origin.fileName === undefined ? whole : `${repositoryPath(origin.fileName)}:${origin.lineNumber}:${origin.columnNumber}`;
  });
}

/** Installs the mapping for `bundleFile` (its map is `<bundleFile>.map`) around Node's own stack formatting. */
export function mapStackTraces(bundleFile: string): void {
  let map: SourceMap | null | undefined;
  // Node's own formatter (a function since Node 22); V8's format when there is none.
  const previous: ((error: Error, callsites: NodeJS.CallSite[]) => unknown) | undefined = Error.prepareStackTrace?.bind(Error);
  Error.prepareStackTrace = (error, callsites) => {
    const stack = previous
      ? String(previous(error, callsites))
      : [String(error), ...callsites.map((c) => `    at ${c.getFunctionName() ?? '<anonymous>'} (${c.getFileName() ?? '<unknown>'}:${c.getLineNumber()}:${c.getColumnNumber()})`)].join('\n');
    if (!stack.includes(bundleFile)) return stack;
    if (map === undefined) {
      try {
        map = new nodeModule.SourceMap(JSON.parse(readFileSync(`${bundleFile}.map`, 'utf8')) as nodeModule.SourceMapPayload);
      } catch {
        // No map (removed, unreadable): the bundle's own positions are still right.
        map = null;
      }
    }
    return map === null ? stack : mapBundlePositions(stack, bundleFile, map);
  };
}
