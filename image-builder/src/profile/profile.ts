/**
 * Build profiles: the YAML that says what image to build. Validated strictly with the
 * shared schema toolkit: an unknown key or a wrong type is an error naming its key path
 * and line. Pure.
 */
import { loadYaml } from '../../../lib/config/load.ts';
import { array, byteSize, object, oneOf, string, type Infer } from '../../../lib/config/validate.ts';

const MIB = 1024 * 1024;

const packageName = string({ pattern: /^[a-z0-9][a-z0-9+.-]+$/, expected: 'a Debian package name' });

export const profileSchema = object({
  name: string({ pattern: /^[a-z0-9][a-z0-9-]*$/, expected: 'a profile name (lower-case letters, digits, hyphens)' }),
  version: string({ pattern: /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, expected: 'a semantic version like "1.2.3"' }),
  suite: string({ pattern: /^[a-z]+$/, expected: 'a Debian suite name like "trixie"' }).default('trixie'),
  kernel: oneOf(['cloud', 'generic']).default('cloud'),
  node: string({ pattern: /^24\.\d+\.\d+$/, expected: 'a pinned Node 24 LTS version like "24.21.0"' }),
  packages: array(packageName).default([]),
  overlays: array(string({ pattern: /^[a-z0-9][a-z0-9-]*$/, expected: 'an overlay layer name (a directory under overlays/)' })).default([]),
  kernel_args: array(string({ pattern: /^\S+$/, expected: 'one kernel argument without spaces' })).default([]),
  root_filesystem: oneOf(['squashfs', 'erofs']).default('squashfs'),
  /** OCI image layouts copied onto the data partition, imported by the runtime at boot (no network needed). */
  preload: array(
    object({
      name: string({ pattern: /^[a-z0-9][a-z0-9_.-]*$/, expected: 'an image name (lower-case letters, digits, "_", ".", "-")' }),
      oci_layout: string({ minLength: 1 }),
    }),
  )
    .refine((items, report) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        if (seen.has(item.name)) report(`"${item.name}" is preloaded twice`, { path: [index, 'name'] });
        seen.add(item.name);
      });
    })
    .default([]),
  partitions: object({
    esp: byteSize({ min: 64 * MIB }).default(128 * MIB),
    root: byteSize({ min: 128 * MIB }).default(512 * MIB),
    data: byteSize({ min: 32 * MIB }).default(64 * MIB),
  }).default({ esp: 128 * MIB, root: 512 * MIB, data: 64 * MIB }),
});

type ProfileDocument = Infer<typeof profileSchema>;

export interface BuildProfile {
  name: string;
  version: string;
  suite: string;
  kernel: 'cloud' | 'generic';
  node: string;
  packages: string[];
  overlays: string[];
  kernelArgs: string[];
  rootFilesystem: 'squashfs' | 'erofs';
  partitions: { esp: number; root: number; data: number };
  /** Images for /var/lib/berth/preload/<name>/; `ociLayout` as written (relative to the repository root, or absolute). */
  preload: Array<{ name: string; ociLayout: string }>;
}

/** Parses and validates a profile; throws ConfigError (code PROFILE_INVALID) listing every problem. */
export function parseProfile(text: string, source: string): BuildProfile {
  const { value } = loadYaml<ProfileDocument>(text, source, profileSchema, { code: 'PROFILE_INVALID' });
  return {
    name: value.name,
    version: value.version,
    suite: value.suite,
    kernel: value.kernel,
    node: value.node,
    packages: [...value.packages],
    overlays: [...value.overlays],
    kernelArgs: [...value.kernel_args],
    rootFilesystem: value.root_filesystem,
    partitions: { ...value.partitions },
    preload: value.preload.map((item) => ({ name: item.name, ociLayout: item.oci_layout })),
  };
}
