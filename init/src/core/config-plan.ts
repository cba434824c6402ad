/**
 * What changing the machine config on a running host means: the diff between the config in force
 * and a new one, section by section, and what each change costs — applied live (host name, time
 * zone, sysctls, new kernel modules, NTP servers, static DNS servers, containers created, recreated
 * or removed) or only at the next boot (removed kernel modules and sysctls, network interfaces,
 * the API's listeners, the update settings, ...). Pure: two validated configs in, the plan out.
 */
import type { ContainerConfig } from '../../../lib/config/sections/containers.ts';
import { sharedNetworkOf } from '../../../lib/config/sections/containers.ts';
import type { MachineConfig } from './machine-config.ts';
import type { ChangeEffect, ConfigPlanView, ContainerChange, ContainerChangeAction as ContainerAction, SectionChange } from '../../../lib/api/index.ts';

export type { ChangeEffect, ContainerAction, ContainerChange, SectionChange };

/** One live step, in the order the apply runs them. */
export type LiveStep =
  | { kind: 'set-hostname'; hostname: string }
  | { kind: 'set-time-zone'; zone: string }
  | { kind: 'load-kernel-modules'; modules: string[] }
  | { kind: 'set-sysctls'; sysctls: Record<string, string> }
  | { kind: 'restart-time-sync'; servers: string[] }
  | { kind: 'write-dns'; servers: string[]; search: string[] }
  | { kind: 'reconcile-containers'; create: string[]; recreate: string[]; remove: string[] };

/** The plan for moving from one config to another: the API's plan and the live steps. */
export interface ConfigPlan extends ConfigPlanView {
  /** The live steps (empty when nothing changes live). */
  steps: LiveStep[];
}

/** Structural equality of JSON-like values (config values are plain data). */
export function isSameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => isSameValue(item, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)].filter((k) => ra[k] !== undefined || rb[k] !== undefined));
  for (const key of keys) if (!isSameValue(ra[key], rb[key])) return false;
  return true;
}

function show(value: unknown): string {
  if (value === undefined) return '(none)';
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (Array.isArray(value) && value.length === 0) return '(none)';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  return JSON.stringify(value);
}

/** `+ key=value`, `- key`, `~ key: a -> b` lines for two string maps. */
function mapChanges(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(after)) {
    if (!(key in before)) lines.push(`+ ${key}=${value}`);
    else if (before[key] !== value) lines.push(`~ ${key}: ${before[key] ?? ''} -> ${value}`);
  }
  for (const key of Object.keys(before)) if (!(key in after)) lines.push(`- ${key}`);
  return lines;
}

/** Changed keys of two objects as `~ path: a -> b` lines, one level of nesting deep. */
function fieldChanges(before: unknown, after: unknown, prefix = ''): string[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  const lines: string[] = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
    if (isSameValue(a[key], b[key])) continue;
    const path = `${prefix}${key}`;
    const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (prefix === '' && isObject(a[key]) && isObject(b[key])) lines.push(...fieldChanges(a[key], b[key], `${key}.`));
    else lines.push(`~ ${path}: ${show(a[key])} -> ${show(b[key])}`);
  }
  return lines;
}

/** The fields of a container that differ (the reasons it is recreated). */
export function changedContainerFields(before: ContainerConfig, after: ContainerConfig): string[] {
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => !isSameValue(a[key], b[key])).sort();
}

/**
 * What happens to each container: new ones are created, dropped ones removed, changed ones
 * recreated (stopped, removed, created again), unchanged ones kept running untouched. A
 * container sharing the network namespace of one that is recreated is recreated too: its
 * namespace goes with the other's process.
 */
export function planContainers(before: Readonly<Record<string, ContainerConfig>>, after: Readonly<Record<string, ContainerConfig>>): ContainerChange[] {
  const changes = new Map<string, ContainerChange>();
  for (const [name, config] of Object.entries(after)) {
    const old = before[name];
    if (old === undefined) changes.set(name, { name, action: 'create', reasons: [] });
    else {
      const fields = changedContainerFields(old, config);
      changes.set(name, fields.length > 0 ? { name, action: 'recreate', reasons: fields } : { name, action: 'keep', reasons: [] });
    }
  }
  // Propagate along shared networks until nothing changes (chains: c shares b shares a).
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, config] of Object.entries(after)) {
      const change = changes.get(name);
      const shared = sharedNetworkOf(config.network_mode);
      if (change?.action !== 'keep' || shared === undefined) continue;
      const other = changes.get(shared);
      if (other !== undefined && (other.action === 'recreate' || other.action === 'create')) {
        changes.set(name, { name, action: 'recreate', reasons: [`shares the network of ${shared}`] });
        grew = true;
      }
    }
  }
  const out = [...changes.values()];
  for (const name of Object.keys(before)) if (!(name in after)) out.push({ name, action: 'remove', reasons: [] });
  return out;
}

/** Why each section that cannot change live needs a reboot. */
const REBOOT_REASONS: Readonly<Record<string, string>> = {
  network: 'interfaces and the DHCP client are set up at boot',
  debug: 'the debug shell is started at boot',
  api: 'the API listeners and their certificates are set up at boot',
  update: 'the update agent reads its settings when it starts',
  container_network: 'the container bridge is set up before the first container starts',
  etcd: 'the etcd member is started at boot, and its cluster membership does not follow a changed config',
};

function sectionOrder(config: MachineConfig): string[] {
  return Object.keys(config);
}

/** The plan from the config in force (`current`) to `next`. */
export function planConfigChange(current: MachineConfig, next: MachineConfig): ConfigPlan {
  const sections: SectionChange[] = [];
  const steps: LiveStep[] = [];
  const keys = [...new Set([...sectionOrder(next), ...sectionOrder(current)])];
  const cur = current as unknown as Record<string, unknown>;
  const nxt = next as unknown as Record<string, unknown>;
  const containers = planContainers(current.containers, next.containers);

  for (const section of keys) {
    if (section.startsWith('x-') || isSameValue(cur[section], nxt[section])) continue;
    switch (section) {
      case 'hostname':
        sections.push({ section, effect: 'live', changes: [`${current.hostname} -> ${next.hostname}`] });
        steps.push({ kind: 'set-hostname', hostname: next.hostname });
        break;
      case 'time_zone':
        sections.push({ section, effect: 'live', changes: [`${current.time_zone} -> ${next.time_zone}`] });
        steps.push({ kind: 'set-time-zone', zone: next.time_zone });
        break;
      case 'ntp':
        sections.push({ section, effect: 'live', changes: [`servers: ${show(current.ntp.servers)} -> ${show(next.ntp.servers)}`] });
        steps.push({ kind: 'restart-time-sync', servers: [...next.ntp.servers] });
        break;
      case 'sysctls': {
        const set: Record<string, string> = {};
        for (const [key, value] of Object.entries(next.sysctls)) if (current.sysctls[key] !== value) set[key] = value;
        const removed = Object.keys(current.sysctls).filter((key) => !(key in next.sysctls));
        const changes = mapChanges(current.sysctls, next.sysctls);
        if (Object.keys(set).length > 0) steps.push({ kind: 'set-sysctls', sysctls: set });
        if (removed.length > 0) {
          sections.push({ section, effect: 'reboot', changes, reason: `a removed sysctl (${removed.join(', ')}) keeps its value until the kernel's default comes back at the next boot` });
        } else sections.push({ section, effect: 'live', changes });
        break;
      }
      case 'kernel_modules': {
        const added = next.kernel_modules.filter((m) => !current.kernel_modules.includes(m));
        const removed = current.kernel_modules.filter((m) => !next.kernel_modules.includes(m));
        const changes = [...added.map((m) => `+ ${m}`), ...removed.map((m) => `- ${m}`)];
        if (added.length > 0) steps.push({ kind: 'load-kernel-modules', modules: added });
        if (removed.length > 0) {
          sections.push({ section, effect: 'reboot', changes, reason: `a loaded module (${removed.join(', ')}) is not unloaded while the host runs` });
        } else if (changes.length > 0) sections.push({ section, effect: 'live', changes });
        else sections.push({ section, effect: 'live', changes: ['order changed'] });
        break;
      }
      case 'network': {
        const interfacesSame = isSameValue(current.network.interfaces, next.network.interfaces);
        const dnsStaticBoth = current.network.dns.servers.length > 0 && next.network.dns.servers.length > 0;
        const changes = fieldChanges(current.network, next.network);
        if (interfacesSame && dnsStaticBoth) {
          sections.push({ section, effect: 'live', changes });
          steps.push({ kind: 'write-dns', servers: [...next.network.dns.servers], search: [...next.network.dns.search] });
        } else {
          const reason = interfacesSame
            ? 'switching DNS between static servers and DHCP changes the DHCP client, which is set up at boot'
            : (REBOOT_REASONS.network ?? '');
          sections.push({ section, effect: 'reboot', changes, reason });
        }
        break;
      }
      case 'containers': {
        const changes = containers
          .filter((c) => c.action !== 'keep')
          .map((c) => `${c.action} ${c.name}${c.reasons.length > 0 ? ` (${c.reasons.join(', ')})` : ''}`);
        sections.push({ section, effect: 'live', changes });
        break;
      }
      case 'registries':
        // Read again by the engine when it reconciles: used from the next pull on.
        sections.push({ section, effect: 'live', changes: fieldChanges(current.registries, next.registries) });
        break;
      case 'storage':
        // The disk reserve: handed to the engine when it reconciles, kept from the next write on.
        sections.push({ section, effect: 'live', changes: fieldChanges(current.storage, next.storage) });
        break;
      default:
        sections.push({
          section,
          effect: 'reboot',
          changes: cur[section] === undefined ? ['+ added'] : nxt[section] === undefined ? ['- removed'] : fieldChanges(cur[section], nxt[section]),
          reason: REBOOT_REASONS[section] ?? 'this section is read at boot',
        });
    }
  }
  const pick = (action: ContainerAction): string[] => containers.filter((c) => c.action === action).map((c) => c.name);
  const engineSettingsChanged = !isSameValue(current.registries, next.registries) || !isSameValue(current.storage, next.storage);
  if (pick('create').length + pick('recreate').length + pick('remove').length > 0 || engineSettingsChanged) {
    steps.push({ kind: 'reconcile-containers', create: pick('create'), recreate: pick('recreate'), remove: pick('remove') });
  }
  return {
    changed: sections.length > 0,
    reboot_required: sections.some((s) => s.effect === 'reboot'),
    sections,
    containers,
    steps,
  };
}

/** A plan in a few lines for logs and the CLI: `hostname live: a -> b`. */
export function summarizePlan(plan: ConfigPlan): string[] {
  if (!plan.changed) return ['No changes'];
  return plan.sections.map((s) => `${s.section} (${s.effect === 'live' ? 'applied now' : 'at next boot'}): ${s.changes.join('; ')}`);
}
