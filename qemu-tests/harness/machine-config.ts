/**
 * Machine configs for the VM cases as data: the parts every case repeats (the debug shell, the
 * TCP API trusting a test CA, insecure test registries, a hostname) and the containers they run
 * again and again (web, a sleeper), rendered to the YAML the guest reads. Pure.
 */
import { dump } from 'js-yaml';
import { GUEST_API_PORT } from './api-client.ts';

/** The busybox test image every case preloads or pushes (oci-image.ts). */
export const TEST_IMAGE = 'berth-test';

/** One entry of `containers:` (the compose-like keys the cases use; the guest validates them). */
export type ContainerConfig = Record<string, unknown>;

export interface CaseConfigOptions {
  hostname?: string;
  /** Turns on the TCP API on GUEST_API_PORT, trusting this CA's client certificates. */
  apiCaPem?: string;
  /** Registries the guest reaches over plain HTTP. */
  insecureRegistries?: readonly string[];
  /** Further top-level sections (`storage:`, `update:`…), placed before `containers:`. */
  sections?: Record<string, unknown>;
  containers?: Record<string, ContainerConfig>;
  /** The debug shell on ttyS1 (default on: the harness's shell needs it). */
  debugShell?: boolean;
}

/** Renders a case's machine config (YAML, sections in a fixed order). */
export function caseConfig(options: CaseConfigOptions): string {
  const config: Record<string, unknown> = {};
  if (options.hostname !== undefined) config.hostname = options.hostname;
  if (options.apiCaPem !== undefined) config.api = { listen: [`0.0.0.0:${GUEST_API_PORT}`], client_ca: options.apiCaPem };
  if (options.debugShell !== false) config.debug = { shell: 'ttyS1' };
  if (options.insecureRegistries && options.insecureRegistries.length > 0) {
    config.registries = Object.fromEntries(options.insecureRegistries.map((host) => [host, { insecure: true }]));
  }
  Object.assign(config, options.sections);
  if (options.containers !== undefined) config.containers = options.containers;
  return dump(config, { lineWidth: -1, noRefs: true });
}

/** The test image's web server (busybox httpd on 8080), with the network given and any further keys. */
export function webContainer(network: { ports: readonly string[] } | { network_mode: 'host' | 'none' }, extra: ContainerConfig = {}): ContainerConfig {
  return { image: TEST_IMAGE, ...network, ...extra };
}

/** A container that only sleeps, without a network, with any further keys (a probe target, a capability holder). */
export function sleeperContainer(extra: ContainerConfig = {}): ContainerConfig {
  return { image: TEST_IMAGE, entrypoint: ['/bin/sleep', '100000'], network_mode: 'none', ...extra };
}

/** A container running `script` with /bin/sh -c, without a network. */
export function shellContainer(script: string, extra: ContainerConfig = {}): ContainerConfig {
  return { image: TEST_IMAGE, entrypoint: ['/bin/sh', '-c', script], network_mode: 'none', ...extra };
}
