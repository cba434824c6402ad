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
