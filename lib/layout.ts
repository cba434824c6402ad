/**
 * The on-disk contract of a berth machine: partition labels, slot names, boot-entry
 * names, kernel command-line keys and paths. image-builder writes it, updater flips it,
 * init reads it; this module is its only owner. Pure: no effects.
 */

export type Slot = 'a' | 'b';
export const SLOTS: readonly Slot[] = ['a', 'b'];

export function otherSlot(slot: Slot): Slot {
  return slot === 'a' ? 'b' : 'a';
}

export function isSlot(value: unknown): value is Slot {
  return value === 'a' || value === 'b';
}

/** GPT partition names (PARTLABEL) in disk order. */
export const PARTITION_LABELS = {
  esp: 'esp',
  rootA: 'root-a',
  rootB: 'root-b',
  data: 'data',
} as const;

export function rootPartitionLabel(slot: Slot): 'root-a' | 'root-b' {
  return slot === 'a' ? PARTITION_LABELS.rootA : PARTITION_LABELS.rootB;
}

/** Filesystem label of the data partition (ext4), set by init's mkfs on first boot. */
export const DATA_FILESYSTEM_LABEL = 'berth-data';

/** GPT partition type GUIDs (Discoverable Partitions Specification). */
export const PARTITION_TYPES = {
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  /** "Root Partition (x86-64)": both slots carry it; the boot entry picks one. */
  rootX86_64: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  /** "Variable Data Partition" (/var). */
  var: '4D21B016-B534-45C2-A9FB-5C16E091FD2D',
} as const;

/** Kernel command-line keys berth's initramfs and init read. */
export const CMDLINE_KEYS = {
  slot: 'berth.slot',
  version: 'berth.version',
  /** dm-verity root hash of the slot's root image (hex). */
  rootHash: 'berth.roothash',
  /** `<data-blocks>:<hash-start-block>:<salt-hex>` for the slot's verity table. */
  verity: 'berth.verity',
  /** Where the machine config comes from (issue 5 extends this). */
  config: 'berth.config',
} as const;

/** Paths inside the booted system. */
export const PATHS = {
  /** Everything berth owns on the read-only root. */
  libDir: '/usr/lib/berth',
  nodeBinary: '/usr/lib/berth/node/bin/node',
  bundle: '/usr/lib/berth/berth.mjs',
  /** Init's main as one CommonJS file, which the loader compiles and the startup snapshot is built from. */
  initBundle: '/usr/lib/berth/berth-init.cjs',
  /** PID 1: reaps, forwards signals, restarts init's Node (native/berth-pid1.c). */
  pid1: '/usr/lib/berth/berth-pid1',
  busybox: '/usr/bin/busybox',
  /** Build facts of this root (version, slot-independent). */
  buildInfo: '/usr/lib/berth/build.json',
  /** The ed25519 public key update bundles must be signed with (laid in by the image builder; absent = no updates). */
  updateSigningKey: '/usr/lib/berth/update-signing.pub',
  /** The mount point of the EFI system partition. */
  espMount: '/efi',
  varDir: '/var',
  stateDir: '/var/lib/berth',
  configOnVar: '/var/lib/berth/config.yaml',
  logDir: '/var/log/berth',
  /** etcd's data directory when the host is an etcd member (machine config `etcd:`). */
  etcdDataDir: '/var/lib/etcd',
  /** etcd's TLS material given inline in the config, written at each boot (tmpfs). */
  etcdRunDir: '/run/berth/etcd',
  /** Containers' json-file logs, `<name>.log` (written by init, never bound into a container). */
  containerLogDir: '/var/log/containers',
  etcOverlayUpper: '/var/lib/berth/etc/upper',
  etcOverlayWork: '/var/lib/berth/etc/work',
  /** Berth's own small files of this boot (tmpfs). */
  runDir: '/run/berth',
  /**
   * V8's code cache of init's bundle this boot (init/src/code-cache.ts): the initramfs copies
   * compileCacheOnVar here before Node starts, since /var is mounted later by init.
   */
  compileCacheRun: '/run/berth/node-compile-cache',
  /**
   * Init's V8 startup snapshot this boot (init/src/startup-snapshot.ts): the initramfs copies the
   * one kept on /var for this root here; berth-pid1 renames it to `<this>.in-use` and starts
   * Node from it, and init removes it once running (a leftover one names a start that failed).
   */
  startupSnapshotRun: '/run/berth/init-snapshot.blob',
  /**
   * berth's caches on /var. PID 1 runs what V8 finds in the code cache, so this is berth's own
   * state: never bound into a container.
   */
  cacheDir: '/var/cache/berth',
  /** The code cache kept across boots; init writes it here once the boot settled. */
  compileCacheOnVar: '/var/cache/berth/node-compile-cache',
  /** The startup snapshot kept across boots, `init-<root hash>.blob`; init builds it once the boot settled. */
  startupSnapshotOnVar: '/var/cache/berth/node-snapshot',
  /** Generated daemon configs: chronyd and dhcpcd read these. */
  chronyConfig: '/run/berth/chrony.conf',
  dhcpcdConfig: '/run/berth/dhcpcd.conf',
  /** Where a config drive (cidata / config-2) is mounted while its config is read. */
  configDriveMount: '/run/berth/config-drive',
  /** The ESP's mount point when the read-only root has no /efi directory. */
  espFallbackMount: '/run/berth/efi',
  /** Test-only trigger files (debug-triggers.ts). */
  debugTriggerDir: '/run/berth/debug',
  /** The debug shell's pid, so a restarted init adopts it. */
  debugShellPid: '/run/berth/debug-shell.pid',
  /** crun's state (--root) and CNI's state. */
  crunStateDir: '/run/berth/crun',
  cniStateDir: '/run/berth/cni',
  /** Per-container OCI bundles: <dir>/<name>/{config.json,rootfs,hosts,...}. */
  bundlesDir: '/run/berth/containers',
  /** The container engine's store; layers below it. */
  runtimeDir: '/var/lib/berth/runtime',
  layersDir: '/var/lib/berth/runtime/layers',
  /** OCI layouts the image builder laid in, one directory per image. */
  preloadDir: '/var/lib/berth/preload',
  /** Per container: <dir>/<name>/{upper,work,image}. */
  containersStateDir: '/var/lib/berth/containers',
  /** Named volumes (`volumes: [name:/path]`), one directory each. */
  volumesDir: '/var/lib/berth/volumes',
  /** The update journal (the updater's state across reboots). */
  updateJournal: '/var/lib/berth/update-journal.json',
  /** This host's id when the image has no /etc/machine-id: generated at the first boot, kept across reboots and updates (init/src/machine-id.ts). */
  machineId: '/var/lib/berth/machine-id',
  /** Digest of the config source text last taken over (config.ts). */
  provisionedRecord: '/var/lib/berth/config.provisioned',
  /** init's own log file. */
  initLog: '/var/log/berth/init.log',
  /** The per-container monitor (native/berth-monitor.c). */
  monitorBinary: '/usr/lib/berth/berth-monitor',
  /** The host's resolver file (written by init, bound into containers). */
  resolvConf: '/etc/resolv.conf',
  /** The management API's Unix socket (root only); `berth ctl` talks to it by default. */
  apiSocket: '/run/berth/api.sock',
  /** The management API's generated server certificate and key. */
  apiStateDir: '/var/lib/berth/api',
  /** Services (containers, helpers) live below this cgroup; init stays in its own leaf. */
  cgroupRoot: '/sys/fs/cgroup',
  cgroupInit: '/sys/fs/cgroup/init.scope',
  cgroupServices: '/sys/fs/cgroup/berth.slice',
  fwCfgConfig: '/sys/firmware/qemu_fw_cfg/by_name/opt/berth/config/raw',
  efivars: '/sys/firmware/efi/efivars',
} as const;

/** QEMU fw_cfg item name carrying the machine config (a contract with outside checks). */
export const FW_CFG_CONFIG_NAME = 'opt/berth/config';

/** Paths on the EFI system partition, relative to its root. */
export const ESP_PATHS = {
  loaderConf: 'loader/loader.conf',
  entriesDir: 'loader/entries',
  systemdBoot: 'EFI/systemd/systemd-bootx64.efi',
  fallbackBoot: 'EFI/BOOT/BOOTX64.EFI',
} as const;

export function espKernelPath(slot: Slot): string {
  return `berth/${slot}/vmlinuz`;
}

export function espInitrdPath(slot: Slot): string {
  return `berth/${slot}/initrd.img`;
}

/** Boot counting as systemd-boot implements it: a fresh entry gets this many tries. */
export const BOOT_TRIES = 3;

/** The boot loader entry id of a slot (file name without counter and `.conf`). */
export function bootEntryId(slot: Slot): string {
  return `berth-${slot}`;
}

export interface BootCounter {
  triesLeft: number;
  triesDone: number;
}

/**
 * The file name of a slot's Type #1 entry: `berth-a+3.conf` when fresh,
 * `berth-a+2-1.conf` after one try, `berth-a.conf` once blessed (counter removed).
 */
export function bootEntryFileName(slot: Slot, counter?: BootCounter): string {
  const id = bootEntryId(slot);
  if (!counter) return `${id}.conf`;
  const done = counter.triesDone > 0 ? `-${counter.triesDone}` : '';
  return `${id}+${counter.triesLeft}${done}.conf`;
}

export interface ParsedBootEntryName {
  slot: Slot;
  /** Absent when the entry is blessed (no counter). */
  counter?: BootCounter;
}

/** Parses a file name from loader/entries; undefined for files that are not berth's. */
export function parseBootEntryFileName(name: string): ParsedBootEntryName | undefined {
  const match = /^berth-([ab])(?:\+(\d+)(?:-(\d+))?)?\.conf$/.exec(name);
  if (!match) return undefined;
  const slot = match[1] as Slot;
  if (match[2] === undefined) return { slot };
  return { slot, counter: { triesLeft: Number(match[2]), triesDone: Number(match[3] ?? 0) } };
}

/** The console line tests and operators key on when the system is up. */
export function readyLine(slot: Slot, version: string, bootMs: number): string {
  return `BERTH-READY slot=${slot} version=${version} boot_ms=${Math.round(bootMs)}`;
}

/**
 * The console line a restarted init prints instead of BERTH-READY (berth-pid1 started init's
 * Node again): BERTH-READY stays the line of a boot.
 */
export function restartedLine(restarts: number, reason: string, slot: Slot, version: string): string {
  return `BERTH-RESTARTED restarts=${restarts} reason=${reason.replace(/\s+/g, '_')} slot=${slot} version=${version}`;
}

/** The console line printed on a fatal boot error. */
export function failedLine(reason: string): string {
  return `BERTH-FAILED reason=${reason.replace(/\s+/g, '_')}`;
}
