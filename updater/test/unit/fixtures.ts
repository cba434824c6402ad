// Shared test data for the updater's unit tests.
import type { BundleManifest } from '../../src/core/bundle-manifest.ts';
import type { Clock } from '../../src/gates.ts';

export const hex = (c: string): string => c.repeat(64);

export function sampleManifest(overrides: Partial<BundleManifest> = {}): BundleManifest {
  return {
    format: 1,
    version: '2.0.0',
    architecture: 'x86_64',
    channel: 'stable',
    min_version: '1.0.0',
    created: '2026-11-20T10:00:00.000Z',
    payload: {
      root: { path: 'root.erofs.zst', size: 100_000_000, sha256: hex('a'), compression: 'zstd', image_size: 400_000 * 1024, image_sha256: hex('b') },
      verity: { path: 'root.verity', size: 3_300_000, sha256: hex('c'), root_hash: hex('d'), salt: 'ee'.repeat(32), data_blocks: 100_000, hash_start_block: 100_000, block_size: 4096 },
      kernel: { path: 'vmlinuz', size: 12_000_000, sha256: hex('1') },
      initrd: { path: 'initrd.img', size: 2_000_000, sha256: hex('2') },
    },
    ...overrides,
  };
}

/** A clock whose sleep advances time instantly (and refuses an aborted signal); `slept` records each sleep. */
export function fakeClock(start = '1970-01-01T00:00:00Z'): Clock & { slept: number[] } {
  let now = new Date(start).getTime();
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(now),
    sleep: (ms, signal) => {
      if (signal?.aborted === true) return Promise.reject(new Error('aborted'));
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
    random: () => 0.5,
  };
}
