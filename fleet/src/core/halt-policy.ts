/**
 * The automatic halt policy: from how many hosts took a version and how many of them failed
 * with it (rolled back, or failed the health gate and rolled back), whether to halt it. Pure.
 */

/** Halt a version when failures reach `maxFailures`, or `maxFailureRatio` of the hosts that took it once `minTakers` have. */
export interface HaltPolicy {
  maxFailures: number;
  maxFailureRatio: number;
  minTakers: number;
}

/** The documented defaults: 2 failures, or 5% of the takers once 20 have taken it. */
export const DEFAULT_HALT_POLICY: HaltPolicy = { maxFailures: 2, maxFailureRatio: 0.05, minTakers: 20 };

export interface VersionCounts {
  /** Hosts granted a reboot slot to move to the version. */
  takers: number;
  /** Hosts reporting the version as bad (rolled back from it). */
  failures: number;
  /** Failures already counted when an operator last resumed the version. */
  baseline: number;
}

/** The halt reason, or undefined when the version may proceed. */
export function evaluateHalt(counts: VersionCounts, policy: HaltPolicy): string | undefined {
  const failures = Math.max(0, counts.failures - counts.baseline);
  if (failures === 0) return undefined;
  const since = counts.baseline > 0 ? ' since it was resumed' : '';
  if (failures >= policy.maxFailures) {
    return `${failures} host${failures === 1 ? '' : 's'} rolled back${since} (policy: halt at ${policy.maxFailures} failures; ${counts.takers} took it)`;
  }
  if (counts.takers >= policy.minTakers && failures / counts.takers >= policy.maxFailureRatio) {
    const pct = ((failures / counts.takers) * 100).toFixed(1);
    return `${failures} of ${counts.takers} hosts that took it rolled back${since} (${pct}% >= ${(policy.maxFailureRatio * 100).toFixed(1)}%)`;
  }
  return undefined;
}

/** Problems with a policy, each with its path. */
export function checkHaltPolicy(policy: HaltPolicy, path: string): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(policy.maxFailures) || policy.maxFailures < 1) problems.push(`${path}.max_failures: expected an integer >= 1`);
  if (!(policy.maxFailureRatio > 0 && policy.maxFailureRatio <= 1)) problems.push(`${path}.max_failure_ratio: expected a number in (0, 1]`);
  if (!Number.isSafeInteger(policy.minTakers) || policy.minTakers < 1) problems.push(`${path}.min_takers: expected an integer >= 1`);
  return problems;
}
