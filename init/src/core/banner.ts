/**
 * The console status banner printed after BERTH-READY (like Flatcar's login banner): version,
 * slot, host name, time zone, addresses per interface, and the containers with their health
 * when the runtime reports them. Plain ASCII, so any serial console shows it. Pure.
 */
import type { InterfaceAddress } from './network-plan.ts';

/** A container as the banner shows it (the runtime fills these in). */
export interface BannerContainer {
  name: string;
  /** running, exited, restarting, ... */
  state: string;
  /** healthy, unhealthy, starting; absent without a health check. */
  health?: string;
}

export interface BannerFacts {
  version: string;
  slot: string;
  hostname: string;
  timeZone: string;
  addresses: readonly InterfaceAddress[];
  /** Interfaces init configured (shown even before they have an address). */
  interfaces: readonly string[];
  /** undefined: the runtime does not report containers (yet). */
  containers: readonly BannerContainer[] | undefined;
  /** Time sync servers; empty when time sync is off. */
  ntpServers: readonly string[];
}

const RULE = '-'.repeat(64);

/** How long the banner waits for containers to settle before it is shown anyway. */
export const BANNER_SETTLE_MS = 60_000;

/**
 * Whether the containers have left their start: none is still being created, starting or
 * restarting, and none with a health check is still in `starting`. The banner waits for this
 * (at most BANNER_SETTLE_MS) so that it shows what an operator needs: healthy or not, not the
 * transient `starting` every container passes through a second after BERTH-READY.
 */
export function containersSettled(containers: readonly BannerContainer[] | undefined): boolean {
  if (containers === undefined) return true;
  return containers.every((c) => c.health !== 'starting' && !TRANSIENT_STATES.has(c.state));
}

const TRANSIENT_STATES = new Set(['created', 'creating', 'starting', 'restarting']);

/** The banner's lines, first and last a rule. */
export function renderBanner(facts: BannerFacts): string[] {
  const lines = [RULE, `berth ${facts.version} on slot ${facts.slot}, host ${facts.hostname}`];
  const names = [...new Set([...facts.interfaces, ...facts.addresses.map((a) => a.interface)])].sort();
  const width = Math.max('containers'.length + 2, ...names.map((n) => n.length + 2));
  if (names.length === 0) lines.push('  no network interfaces configured');
  for (const name of names) {
    const mine = facts.addresses.filter((a) => a.interface === name).sort((a, b) => a.family - b.family);
    lines.push(`  ${name.padEnd(width)}${mine.length === 0 ? '(no address yet)' : mine.map((a) => a.address).join('  ')}`);
  }
  lines.push(`  ${'time'.padEnd(width)}${facts.timeZone}, ${facts.ntpServers.length === 0 ? 'no NTP servers configured' : `NTP ${facts.ntpServers.join(' ')}`}`);
  if (facts.containers !== undefined) {
    if (facts.containers.length === 0) lines.push(`  ${'containers'.padEnd(width)}none`);
    for (const [i, c] of facts.containers.entries()) {
      const state = c.health === undefined ? c.state : `${c.state}, ${c.health}`;
      lines.push(`  ${(i === 0 ? 'containers' : '').padEnd(width)}${c.name} (${state})`);
    }
  }
  lines.push(RULE);
  return lines;
}
