/**
 * What every build stage receives: the validated profile, the repository root, the
 * cache, the reproducibility epoch and a progress reporter.
 */
import type { BuildProfile } from '../profile/profile.ts';
import type { BuildCache } from '../cache.ts';

export interface BuildContext {
  profile: BuildProfile;
  repoRoot: string;
  cache: BuildCache;
  /** SOURCE_DATE_EPOCH: every timestamp in the root image. */
  epoch: number;
  log: (line: string) => void;
}
