/**
 * The admin side of the coordinator as pure data: its routes, and the views `berth fleet
 * status | hosts | locks | groups` draw from one snapshot (versions across the fleet, hosts per
 * phase, holders, halts, hosts gone silent), as objects for `--json` and as text tables. Pure.
 */
import type { HostStatus } from '../../../lib/fleet/protocol.ts';
import type { Holder } from './semaphore.ts';

/** Admin routes (admin certificate only). */
export const ADMIN_ROUTES = {
  snapshot: '/v1/fleet/snapshot',
  unlock: '/v1/fleet/unlock',
  halt: '/v1/fleet/halt',
  resume: '/v1/fleet/resume',
  groups: '/v1/fleet/groups',
} as const;

/** The snapshot the coordinator returns (store.ts FleetSnapshot, restated here as wire data). */
export interface SnapshotView {
  now_ms: number;
  groups: { group: string; slots: number; configured: boolean; holders: Holder[] }[];
  hosts: { id: string; group: string; status?: HostStatus; last_seen_ms: number }[];
  halts: { version: string; state: 'halted' | 'resumed'; reason: string; by: 'policy' | 'admin'; since: string; baseline: number }[];
}

export type HostHealth = 'reporting' | 'silent' | 'gone';

/** `reporting` within `silentAfterMs`, `silent` after it, `gone` once the report's lease expired. */
export function hostHealth(host: SnapshotView['hosts'][number], nowMs: number, silentAfterMs: number): HostHealth {
  if (!host.status) return 'gone';
  return nowMs - host.last_seen_ms > silentAfterMs ? 'silent' : 'reporting';
}

export interface FleetStatusView {
  hosts: number;
  versions: Record<string, number>;
  phases: Record<string, number>;
  health: Record<HostHealth, number>;
  groups: { group: string; slots: number; held: number }[];
  halted: { version: string; by: string; reason: string; since: string }[];
  silent: string[];
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The fleet at a glance. */
export function summarize(s: SnapshotView, silentAfterMs: number): FleetStatusView {
  const health = { reporting: 0, silent: 0, gone: 0 };
  const silent: string[] = [];
  for (const h of s.hosts) {
    const state = hostHealth(h, s.now_ms, silentAfterMs);
    health[state] += 1;
    if (state !== 'reporting') silent.push(h.id);
  }
  return {
    hosts: s.hosts.length,
    versions: countBy(s.hosts.filter((h) => h.status), (h) => h.status?.version ?? ''),
    phases: countBy(s.hosts.filter((h) => h.status), (h) => h.status?.phase ?? ''),
    health,
    groups: s.groups.map((g) => ({ group: g.group, slots: g.slots, held: g.holders.length })),
    halted: s.halts.filter((h) => h.state === 'halted').map(({ version, by, reason, since }) => ({ version, by, reason, since })),
    silent: silent.sort(),
  };
}

/** A plain text table: a header row and aligned columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const age = (nowMs: number, thenMs: number): string => {
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
};

export function formatStatus(v: FleetStatusView): string {
  const out = [`Hosts: ${v.hosts} (${v.health.reporting} reporting, ${v.health.silent} silent, ${v.health.gone} gone)`, ''];
  out.push(table(['VERSION', 'HOSTS'], Object.entries(v.versions).map(([k, n]) => [k, String(n)])), '');
  out.push(table(['PHASE', 'HOSTS'], Object.entries(v.phases).map(([k, n]) => [k, String(n)])), '');
  out.push(table(['GROUP', 'HELD', 'SLOTS'], v.groups.map((g) => [g.group, String(g.held), String(g.slots)])));
  out.push('', v.halted.length === 0 ? 'Halted versions: none' : table(['HALTED', 'BY', 'SINCE', 'REASON'], v.halted.map((h) => [h.version, h.by, h.since, h.reason])));
  if (v.silent.length > 0) out.push('', `Silent or gone: ${v.silent.slice(0, 20).join(', ')}${v.silent.length > 20 ? ` and ${v.silent.length - 20} more` : ''}`);
  return out.join('\n');
}

export function formatHosts(s: SnapshotView, silentAfterMs: number): string {
  const rows = [...s.hosts]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((h) => [h.id, h.group, h.status?.version ?? '-', h.status?.phase ?? '-', h.status?.target_version ?? '-', String(h.status?.rollbacks ?? '-'), hostHealth(h, s.now_ms, silentAfterMs), age(s.now_ms, h.last_seen_ms), h.status?.last_error?.code ?? '']);
  return table(['HOST', 'GROUP', 'VERSION', 'PHASE', 'TARGET', 'ROLLBACKS', 'STATE', 'SEEN', 'LAST ERROR'], rows);
}

export function formatLocks(s: SnapshotView): string {
  const rows = s.groups.flatMap((g) => g.holders.map((h) => [g.group, h.id, h.target_version ?? '-', new Date(h.since_ms).toISOString(), age(s.now_ms, h.since_ms)]));
  return rows.length === 0 ? 'No slots held' : table(['GROUP', 'HOST', 'TARGET', 'SINCE', 'HELD FOR'], rows);
}

export function formatGroups(s: SnapshotView): string {
  return table(['GROUP', 'SLOTS', 'HELD', 'SETTING'], s.groups.map((g) => [g.group, String(g.slots), String(g.holders.length), g.configured ? 'set' : 'default']));
}
