/**
 * The seam between the container engine and container networking. The engine owns no network
 * code: for `network_mode: bridge` it asks a NetworkAttacher (CNI, implemented by the
 * networking component) for a prepared namespace before `crun run`, and detaches after the
 * container is deleted. `host`, `none` and `container:<name>` never reach an attacher.
 */
import type { MachineConfig } from '../../lib/config/machine-config.ts';

/** What the engine tells the attacher about one container start. */
export interface NetworkContainer {
  /** The container's name in the machine config (also its crun id and DNS name on the bridge). */
  name: string;
  /** Compose `ports` entries as written, e.g. "8080:80", "127.0.0.1:53:53/udp". */
  ports: readonly string[];
  /** Compose `hostname` (defaults to the name). */
  hostname: string;
  /** Compose `dns` servers, if any. */
  dns: readonly string[];
  /** Compose `extra_hosts` entries as written ("name:ip" or "name=ip"). */
  extraHosts: readonly string[];
  /**
   * The file the engine bind-mounts at /etc/hosts. When given, the attacher owns it: it writes it
   * at attach and rewrites it in place (same inode, so the bind mount sees it) whenever a container
   * joins or leaves the bridge, so peers started later are found by name. The engine then does not
   * write it itself.
   */
  hostsFile?: string;
}

/** A namespace the attacher prepared: the engine puts `netnsPath` into config.json. */
export interface NetworkAttachment {
  /** A bind-mounted network namespace, e.g. /run/netns/berth-web. */
  netnsPath: string;
  /** The container's address on the bridge, for /etc/hosts of the container and its peers. */
  ip?: string;
  /** Lines for the container's /etc/hosts beyond localhost and its own name (peers by name). */
  hosts?: readonly string[];
  /** The hosts file the attacher keeps current (NetworkContainer.hostsFile, or one of its own). */
  hostsFile?: string;
  /** The bridge's address (the container's default gateway), for logs and status. */
  gateway?: string;
  /** Name servers for the container's /etc/resolv.conf (when the attacher runs a resolver). */
  nameservers?: readonly string[];
  /** Releases the namespace, IPAM lease and port mappings; idempotent, never throws for "already gone". */
  detach(): Promise<void>;
}

/** Attaches containers with `network_mode: bridge` (the default). */
export interface NetworkAttacher {
  /**
   * Called once by Engine.start with the machine config, before any container: reads the
   * network settings (`container_network`) and removes what an earlier run left attached,
   * except the containers in `keep` (still running, to be adopted).
   */
  start?(config: MachineConfig, options?: { keep?: readonly string[] }): Promise<void>;
  attach(container: NetworkContainer): Promise<NetworkAttachment>;
  /**
   * Takes back the attachment of a container that kept running while init restarted (its
   * namespace and addresses as the attacher recorded them; nothing is added); undefined when
   * nothing usable is recorded. `start` must have spared it (`keep`).
   */
  adopt?(container: NetworkContainer): Promise<NetworkAttachment | undefined>;
}
