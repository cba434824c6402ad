/**
 * From a validated Compose service (lib/config containers section) and its image to what the
 * engine needs: the input of buildOciSpec, the /etc/hosts, /etc/resolv.conf and /etc/hostname
 * texts, the health-check policy and probe argv, and the exec process of a probe. Pure.
 */
import type { ContainerConfig, HealthTest, VolumeSpec } from '../../../lib/config/sections/containers.ts';
import type { ImageConfig } from './manifest.ts';
import type { ContainerSpecInput, MountInput, NetworkInput, OciSpec, ResolvedUser } from './oci-spec.ts';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from './supervision.ts';
import { PATHS } from '../../../lib/layout.ts';

/** Paths of one container's files. */
export interface ContainerPaths {
  /** /run/berth/containers/<name>: config.json, hosts, resolv.conf, hostname. */
  bundleDir: string;
  /** The overlay mount point (the container's root). */
  rootfs: string;
}

export interface SpecFacts {
  name: string;
  container: ContainerConfig;
  image: ImageConfig;
  user: ResolvedUser;
  paths: ContainerPaths;
  network: NetworkInput;
  /** Where named volumes live (one directory each). */
  volumesDir?: string;
}

/** Host directory of a named volume. */
export function volumeDir(name: string, volumesDir: string = PATHS.volumesDir): string {
  return `${volumesDir}/${name}`;
}

function mountOf(volume: VolumeSpec, volumesDir: string): MountInput {
  switch (volume.type) {
    case 'volume':
      return { type: 'bind', source: volumeDir(volume.source, volumesDir), destination: volume.target, readOnly: volume.readOnly };
    case 'bind':
      return { type: 'bind', source: volume.source, destination: volume.target, readOnly: volume.readOnly };
    case 'tmpfs': {
      const mount: MountInput = { type: 'tmpfs', destination: volume.target };
      if (volume.sizeBytes !== undefined) mount.sizeBytes = volume.sizeBytes;
      if (volume.mode !== undefined) mount.mode = volume.mode;
      return mount;
    }
  }
}

/** The buildOciSpec input of a container: Compose fields mapped one to one. */
export function containerSpecInput(facts: SpecFacts): ContainerSpecInput {
  const c = facts.container;
  const volumesDir = facts.volumesDir ?? PATHS.volumesDir;
  const input: ContainerSpecInput = {
    name: facts.name,
    image: facts.image,
    imageReference: c.image,
    rootfsPath: facts.paths.rootfs,
    environment: c.environment,
    user: facts.user,
    readOnly: c.read_only,
    privileged: c.privileged,
    capAdd: c.cap_add,
    capDrop: c.cap_drop,
    sysctls: c.sysctls,
    ulimits: c.ulimits,
    network: facts.network,
    mounts: c.volumes.map((volume) => mountOf(volume, volumesDir)),
    files: {
      hostsPath: `${facts.paths.bundleDir}/hosts`,
      resolvConfPath: `${facts.paths.bundleDir}/resolv.conf`,
      hostnamePath: `${facts.paths.bundleDir}/hostname`,
    },
    labels: c.labels,
  };
  if (c.entrypoint !== undefined) input.entrypoint = c.entrypoint;
  if (c.command !== undefined) input.command = c.command;
  if (c.working_dir !== undefined) input.workingDir = c.working_dir;
  if (c.hostname !== undefined) input.hostname = c.hostname;
  if (c.mem_limit !== undefined) input.memLimitBytes = c.mem_limit;
  if (c.mem_reservation !== undefined) input.memReservationBytes = c.mem_reservation;
  if (c.shm_size !== undefined) input.shmSizeBytes = c.shm_size;
  if (c.cpus !== undefined) input.cpus = c.cpus;
  if (c.pids_limit !== undefined) input.pidsLimit = c.pids_limit;
  return input;
}

/**
 * init runs with oom_score_adj -1000 and children inherit it; a container must be an ordinary
 * OOM victim (never init), so its process gets 0 explicitly.
 */
export const CONTAINER_OOM_SCORE_ADJ = 0;

/** Adds what berth sets beyond buildOciSpec's Docker defaults. */
export function finishSpec(spec: OciSpec): OciSpec {
  return { ...spec, process: { ...spec.process, oomScoreAdj: CONTAINER_OOM_SCORE_ADJ } };
}

/** /etc/hosts of a container: localhost, its own name, peers from the network, extra_hosts. */
export function hostsFile(hostname: string, options: { ip?: string; peers?: readonly string[]; extraHosts?: readonly string[] } = {}): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  lines.push(`${options.ip ?? '127.0.1.1'}\t${hostname}`);
  for (const peer of options.peers ?? []) lines.push(peer);
  for (const entry of options.extraHosts ?? []) {
    const at = entry.indexOf(':');
    lines.push(`${entry.slice(at + 1)}\t${entry.slice(0, at)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * /etc/resolv.conf of a container: its `dns` servers, else the attacher's, else the host's
 * file with loopback servers dropped (they mean nothing in another network namespace; in host
 * mode they do, so the host's file is kept whole).
 */
export function resolvConf(options: { dns: readonly string[]; nameservers?: readonly string[]; hostResolvConf: string; hostNetwork: boolean }): string {
  const servers = options.dns.length > 0 ? options.dns : (options.nameservers ?? []);
  if (servers.length > 0) return servers.map((server) => `nameserver ${server}\n`).join('');
  if (options.hostNetwork) return options.hostResolvConf;
  const kept = options.hostResolvConf.split('\n').filter((line) => !/^\s*nameserver\s+(127\.|::1\b)/.test(line));
  return kept.join('\n');
}

/** One file the shell writes into a container's bundle directory; no mode: the default (0666 less the umask). */
export interface BundleFile {
  name: 'hosts' | 'resolv.conf' | 'hostname' | 'config.json' | 'probe.json';
  content: string;
  mode?: number;
}

/** What a bundle's files are made from: the finished spec, the config's dns/extra_hosts, the host, the network attachment. */
export interface BundleFacts {
  spec: OciSpec;
  dns: readonly string[];
  extraHosts: readonly string[];
  hostResolvConf: string;
  hostNetwork: boolean;
  /** From the network attacher; with its own hostsFile, the attacher keeps /etc/hosts and the bundle has none. */
  attachment?: { ip?: string; hosts?: readonly string[]; hostsFile?: string; nameservers?: readonly string[] };
  /** The health probe's argv, when the container has a health check. */
  healthArgv?: readonly string[];
}

/**
 * The files of a container's bundle beside its rootfs, in the order they are written:
 * /etc/hosts (unless the attacher keeps one), resolv.conf, hostname, config.json (0600, it
 * carries the environment) and, with a health check, the probe's exec process (0600).
 */
export function bundleFiles(facts: BundleFacts): BundleFile[] {
  const { spec, attachment } = facts;
  const files: BundleFile[] = [];
  if (attachment?.hostsFile === undefined) {
    const hostsOptions: { ip?: string; peers?: readonly string[]; extraHosts?: readonly string[] } = { extraHosts: facts.extraHosts };
    if (attachment?.ip !== undefined) hostsOptions.ip = attachment.ip;
    if (attachment?.hosts !== undefined) hostsOptions.peers = attachment.hosts;
    files.push({ name: 'hosts', content: hostsFile(spec.hostname, hostsOptions) });
  }
  const resolvOptions: Parameters<typeof resolvConf>[0] = { dns: facts.dns, hostResolvConf: facts.hostResolvConf, hostNetwork: facts.hostNetwork };
  if (attachment?.nameservers !== undefined) resolvOptions.nameservers = attachment.nameservers;
  files.push({ name: 'resolv.conf', content: resolvConf(resolvOptions) });
  files.push({ name: 'hostname', content: `${spec.hostname}\n` });
  files.push({ name: 'config.json', content: `${JSON.stringify(spec, null, 2)}\n`, mode: 0o600 });
  if (facts.healthArgv !== undefined) files.push({ name: 'probe.json', content: JSON.stringify(execProcess(spec, facts.healthArgv)), mode: 0o600 });
  return files;
}

/** A container's health check, merged from the config and the image (the config wins per field). */
export interface HealthPlan {
  policy: HealthPolicy;
  /** The probe, as argv run inside the container. */
  argv: string[];
}

const NS_PER_MS = 1_000_000;

/** The health check of a container, or undefined when it has none (or disables it). */
export function healthPlanOf(container: ContainerConfig, image: ImageConfig): HealthPlan | undefined {
  const h = container.healthcheck;
  if (h?.disable === true) return undefined;
  const imageCheck = image.healthcheck;
  let test: HealthTest | undefined = h?.test;
  if (test === undefined && imageCheck !== undefined) {
    const [kind, ...rest] = imageCheck.test;
    if (kind === 'CMD' && rest.length > 0) test = { kind: 'exec', argv: rest };
    else if (kind === 'CMD-SHELL' && rest[0] !== undefined) test = { kind: 'shell', command: rest[0] };
    else test = { kind: 'none' };
  }
  if (test === undefined || test.kind === 'none') return undefined;
  const fromImage = (ns: number | undefined): number | undefined => (ns === undefined || ns === 0 ? undefined : Math.round(ns / NS_PER_MS));
  const policy: HealthPolicy = {
    intervalMs: h?.interval ?? fromImage(imageCheck?.intervalNs) ?? DEFAULT_HEALTH_POLICY.intervalMs,
    timeoutMs: h?.timeout ?? fromImage(imageCheck?.timeoutNs) ?? DEFAULT_HEALTH_POLICY.timeoutMs,
    retries: h?.retries ?? (imageCheck?.retries === undefined || imageCheck.retries === 0 ? undefined : imageCheck.retries) ?? DEFAULT_HEALTH_POLICY.retries,
    startPeriodMs: h?.start_period ?? fromImage(imageCheck?.startPeriodNs) ?? DEFAULT_HEALTH_POLICY.startPeriodMs,
    startIntervalMs: h?.start_interval ?? fromImage(imageCheck?.startIntervalNs) ?? DEFAULT_HEALTH_POLICY.startIntervalMs,
  };
  return { policy, argv: test.kind === 'exec' ? test.argv : ['/bin/sh', '-c', test.command] };
}

/** The process.json of `crun exec` for a probe: the container's user, env, cwd and capabilities. */
export function execProcess(spec: OciSpec, argv: readonly string[]): OciSpec['process'] {
  return { ...spec.process, args: [...argv], terminal: false };
}

/** Names the containers a container waits for before its first start, with their conditions. */
export function dependenciesOf(container: ContainerConfig): Array<{ name: string; condition: 'service_started' | 'service_healthy' | 'service_completed_successfully' }> {
  return Object.entries(container.depends_on).map(([name, { condition }]) => ({ name, condition }));
}
