/**
 * Supervision decisions as pure functions: Compose restart policies (no, always,
 * on-failure[:N], unless-stopped), the health-check state machine (starting, healthy,
 * unhealthy with retries and start_period), and start order from depends_on with its
 * conditions. The supervisor feeds in events and time; these return what to do.
 */
import { BerthError } from '../../../lib/errors.ts';

// ---------------------------------------------------------------------------------------------
// Restart policies

export type RestartPolicy = { kind: 'no' } | { kind: 'always' } | { kind: 'unless-stopped' } | { kind: 'on-failure'; maxRetries?: number };

/** Parses Compose's `restart:` value. Throws CONFIG_INVALID naming the value. */
export function parseRestartPolicy(text: string): RestartPolicy {
  if (text === 'no' || text === 'always' || text === 'unless-stopped') return { kind: text };
  const match = /^on-failure(?::(\d+))?$/.exec(text);
  if (match !== null) return match[1] === undefined ? { kind: 'on-failure' } : { kind: 'on-failure', maxRetries: Number(match[1]) };
  throw new BerthError('CONFIG_INVALID', `restart: expected "no", "always", "on-failure[:N]" or "unless-stopped" but got "${text}"`);
}

export interface ExitFacts {
  exitCode: number;
  /** The user (or berth shutting down) stopped it: never restart. */
  stoppedOnPurpose: boolean;
  /** Restarts already made since the container was (re)started by the user. */
  restartCount: number;
  /** Killed by the health checker for being unhealthy: restart whenever the policy restarts at all. */
  unhealthy?: boolean;
}

/** Whether the supervisor starts the container again after it exited. */
export function shouldRestart(policy: RestartPolicy, facts: ExitFacts): boolean {
  if (facts.stoppedOnPurpose) return false;
  switch (policy.kind) {
    case 'no':
      return false;
    case 'always':
    case 'unless-stopped':
      // berth has no daemon restart: unless-stopped behaves as always until stopped on purpose.
      return true;
    case 'on-failure':
      if (facts.exitCode === 0 && facts.unhealthy !== true) return false;
      return policy.maxRetries === undefined || facts.restartCount < policy.maxRetries;
  }
}

// ---------------------------------------------------------------------------------------------
// Health checks

export interface HealthPolicy {
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  /** Failures during this time after start do not count (successes do). */
  startPeriodMs: number;
  /** Probe interval during the start period (Docker's start_interval). */
  startIntervalMs: number;
}

/** Docker's defaults: 30 s interval, 30 s timeout, 3 retries, no start period, 5 s start interval. */
export const DEFAULT_HEALTH_POLICY: Readonly<HealthPolicy> = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, startIntervalMs: 5_000 };

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  startedAtMs: number;
}

export function initialHealth(startedAtMs: number): HealthState {
  return { status: 'starting', failingStreak: 0, startedAtMs };
}

/** A probe finished at `nowMs` (a timeout counts as a failure). */
export function recordProbe(state: HealthState, passed: boolean, nowMs: number, policy: HealthPolicy): HealthState {
  if (passed) return { ...state, status: 'healthy', failingStreak: 0 };
  const inStartPeriod = nowMs - state.startedAtMs < policy.startPeriodMs;
  if (inStartPeriod && state.status === 'starting') return state;
  const failingStreak = state.failingStreak + 1;
  return { ...state, failingStreak, status: failingStreak >= policy.retries ? 'unhealthy' : state.status };
}

/** When to run the next probe after one finished at `nowMs`. */
export function nextProbeAtMs(state: HealthState, nowMs: number, policy: HealthPolicy): number {
  const inStartPeriod = state.status === 'starting' && nowMs - state.startedAtMs < policy.startPeriodMs;
  return nowMs + (inStartPeriod ? policy.startIntervalMs : policy.intervalMs);
}

// ---------------------------------------------------------------------------------------------
// depends_on

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ServiceDependencies {
  name: string;
  dependsOn: Readonly<Record<string, DependencyCondition>>;
  /** Whether the service defines a health check (service_healthy needs one). */
  hasHealthcheck: boolean;
}

/**
 * Start order in waves: every service of a wave depends only on earlier waves. Reports all
 * unknown dependencies, service_healthy on services without a health check, and cycles
 * (naming the services in them) at once, as CONFIG_INVALID.
 */
export function startOrder(services: readonly ServiceDependencies[]): string[][] {
  const byName = new Map(services.map((service) => [service.name, service]));
  const problems: string[] = [];
  for (const service of services) {
    for (const [dependency, condition] of Object.entries(service.dependsOn)) {
      const target = byName.get(dependency);
      if (target === undefined) problems.push(`containers.${service.name}.depends_on.${dependency}: no container named "${dependency}"`);
      else if (dependency === service.name) problems.push(`containers.${service.name}.depends_on: a container cannot depend on itself`);
      else if (condition === 'service_healthy' && !target.hasHealthcheck) {
        problems.push(`containers.${service.name}.depends_on.${dependency}: condition service_healthy needs a healthcheck on "${dependency}"`);
      }
    }
  }
  const waves: string[][] = [];
  const placed = new Set<string>();
  let remaining = services.filter((service) => !placed.has(service.name));
  while (remaining.length > 0) {
    const wave = remaining
      .filter((service) => Object.keys(service.dependsOn).every((dependency) => placed.has(dependency) || !byName.has(dependency) || dependency === service.name))
      .map((service) => service.name)
      .sort();
    if (wave.length === 0) {
      problems.push(`depends_on: cycle between ${remaining.map((service) => service.name).sort().join(', ')}`);
      break;
    }
    for (const name of wave) placed.add(name);
    waves.push(wave);
    remaining = remaining.filter((service) => !placed.has(service.name));
  }
  if (problems.length > 0) throw new BerthError('CONFIG_INVALID', `Invalid container dependencies: ${problems.join('; ')}`);
  return waves;
}

/** Whether a dependency in `state` satisfies `condition` (the dependent may start). */
export function isDependencySatisfied(
  condition: DependencyCondition,
  state: { running: boolean; health?: HealthStatus; exitCode?: number },
): boolean {
  switch (condition) {
    case 'service_started':
      return state.running || state.exitCode !== undefined;
    case 'service_healthy':
      return state.running && state.health === 'healthy';
    case 'service_completed_successfully':
      return !state.running && state.exitCode === 0;
  }
}
