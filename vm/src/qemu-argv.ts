/**
 * The qemu-system-x86_64, qemu-img and qemu-io command lines of a test VM, built as data.
 * Pure: no effects; every path comes in as a parameter. The network it describes reaches
 * nothing beyond 127.0.0.1: user-mode networking with restrict=on, and only forwards
 * bound to loopback.
 */
import { BerthError } from '../../lib/errors.ts';
import { FW_CFG_CONFIG_NAME } from '../../lib/layout.ts';

/** How QEMU runs guest code: KVM when it works on this host, TCG otherwise. */
export type Accelerator = 'kvm' | 'tcg';

/** The only host address a forward may use. */
export const LOOPBACK = '127.0.0.1';

/** A host port on 127.0.0.1 forwarded into the guest (`hostfwd`). */
export interface HostForward {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  guestPort: number;
}

/** A guest address:port on the user network connected to a host port on 127.0.0.1 (`guestfwd`). */
export interface GuestForward {
  /** An address inside the user network, e.g. 10.0.2.100. */
  guestAddress: string;
  guestPort: number;
  hostPort: number;
  /**
   * 'socket' (default): QEMU opens one connection to the host port and every guest connection
   * shares it. 'process': each guest connection gets its own host connection through socat
   * (tcpPipeCommand), for clients that open several connections (HTTP downloads).
   */
  mode?: 'socket' | 'process';
}

/**
 * The receive buffer of a 'process' forward's host connection. Fixed, so the kernel does not
 * autotune it to megabytes: a guest that reads slowly (a paced download) then holds back the
 * host's server within ~256 KiB instead of the relay soaking up megabytes that the server
 * counts as sent (the update test measures the wire rate at the server; the relay's share of
 * the first second's burst was ~3 MB of ~13).
 */
export const PROCESS_FORWARD_RCVBUF_BYTES = 128 * 1024;

/**
 * The per-connection pipe of a 'process' guest forward: QEMU runs it (through /bin/sh) with the
 * guest connection on stdin/stdout, and socat pipes it to 127.0.0.1:<port>. socat (a standard
 * Debian tool, installed by scripts/setup-host.sh) sets SO_RCVBUF before it connects, which
 * Node's net module cannot.
 */
export function tcpPipeCommand(port: number): string {
  return `socat STDIO TCP:127.0.0.1:${port},rcvbuf=${PROCESS_FORWARD_RCVBUF_BYTES}`;
}

/**
 * A second network card on a private network shared with other VMs: a QEMU socket netdev
 * connected to a hub on 127.0.0.1 (network-hub.ts). Frames go only to the other VMs on it.
 */
export interface PrivateNic {
  /** The hub's TCP port on 127.0.0.1. */
  hubPort: number;
  /** The card's MAC address (locally administered, e.g. 52:54:00:xx:xx:xx). */
  mac: string;
}

/** An extra drive beside the boot disk (a config drive): a virtio disk or a SATA CD-ROM. */
export interface ExtraDrive {
  /** A raw image file. */
  file: string;
  kind: 'virtio' | 'cdrom';
}

export interface QemuVmSpec {
  accel: Accelerator;
  /** OVMF code, mapped read-only. */
  firmwareCode: string;
  /** This VM's own copy of OVMF_VARS, writable. */
  firmwareVars: string;
  /** The per-test qcow2 overlay the guest boots from. */
  disk: string;
  /** Serial 0 (the guest console) is appended to this file. */
  consoleLog: string;
  /** Serial 1 (the guest debug shell) is served on this unix socket. */
  shellSocket: string;
  /** QMP is served on this unix socket. */
  qmpSocket: string;
  /** Machine config passed through fw_cfg as opt/berth/config. */
  configFile?: string;
  memoryMiB?: number;
  cpus?: number;
  hostForwards?: readonly HostForward[];
  guestForwards?: readonly GuestForward[];
  extraDrives?: readonly ExtraDrive[];
  privateNics?: readonly PrivateNic[];
  /**
   * The console on this terminal (multiplexed with QEMU's monitor: Ctrl-A X leaves, Ctrl-A C
   * the monitor) and still appended to `consoleLog`; a guest reboot restarts the guest in
   * the same QEMU instead of ending it.
   */
  interactive?: boolean;
  name?: string;
}

export const DEFAULT_MEMORY_MIB = 2048;
export const DEFAULT_CPUS = 2;

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Every problem with the forwards at once, each with its path; empty when valid. */
export function checkForwards(spec: Pick<QemuVmSpec, 'hostForwards' | 'guestForwards' | 'privateNics'>): string[] {
  const problems: string[] = [];
  (spec.hostForwards ?? []).forEach((fwd, i) => {
    if (fwd.protocol !== 'tcp' && fwd.protocol !== 'udp') problems.push(`hostForwards[${i}].protocol: expected "tcp" or "udp"`);
    if (!isPort(fwd.hostPort)) problems.push(`hostForwards[${i}].hostPort: expected a port 1-65535`);
    if (!isPort(fwd.guestPort)) problems.push(`hostForwards[${i}].guestPort: expected a port 1-65535`);
  });
  (spec.guestForwards ?? []).forEach((fwd, i) => {
    if (!/^10\.0\.2\.\d{1,3}$/.test(fwd.guestAddress)) problems.push(`guestForwards[${i}].guestAddress: expected an address in 10.0.2.0/24`);
    if (!isPort(fwd.guestPort)) problems.push(`guestForwards[${i}].guestPort: expected a port 1-65535`);
    if (!isPort(fwd.hostPort)) problems.push(`guestForwards[${i}].hostPort: expected a port 1-65535`);
  });
  (spec.privateNics ?? []).forEach((nic, i) => {
    if (!isPort(nic.hubPort)) problems.push(`privateNics[${i}].hubPort: expected a port 1-65535`);
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(nic.mac) || (parseInt(nic.mac.slice(0, 2), 16) & 1) === 1) {
      problems.push(`privateNics[${i}].mac: expected a unicast MAC address like 52:54:00:12:34:56`);
    }
  });
  return problems;
}

/** The -netdev value: user networking, restricted, forwards on loopback only. */
export function netdevValue(spec: Pick<QemuVmSpec, 'hostForwards' | 'guestForwards' | 'privateNics'>): string {
  const problems = checkForwards(spec);
  if (problems.length > 0) {
    throw new BerthError('QEMU_NET_FORWARD_INVALID', `Refusing the VM network forwards: ${problems.join('; ')}`);
  }
  const parts = ['user', 'id=n0', 'restrict=on'];
  for (const fwd of spec.hostForwards ?? []) {
    parts.push(`hostfwd=${fwd.protocol}:${LOOPBACK}:${fwd.hostPort}-:${fwd.guestPort}`);
  }
  for (const fwd of spec.guestForwards ?? []) {
    parts.push(
      fwd.mode === 'process'
        ? `guestfwd=tcp:${fwd.guestAddress}:${fwd.guestPort}-cmd:${escapeOptionValue(tcpPipeCommand(fwd.hostPort))}`
        : `guestfwd=tcp:${fwd.guestAddress}:${fwd.guestPort}-tcp:${LOOPBACK}:${fwd.hostPort}`,
    );
  }
  return parts.join(',');
}

/**
 * The host forward QEMU could not bind, from its startup error ("Could not set up host forwarding
 * rule 'tcp:127.0.0.1:PORT-:GUEST'"), or undefined when the error is about something else.
 */
export function unboundHostForward(qemuStderr: string): HostForward | undefined {
  const found = /Could not set up host forwarding rule '(tcp|udp):127\.0\.0\.1:(\d+)-:(\d+)'/.exec(qemuStderr);
  if (!found) return undefined;
  return { protocol: found[1] as 'tcp' | 'udp', hostPort: Number(found[2]), guestPort: Number(found[3]) };
}

/** QEMU option values separate keys with commas; a comma in a path is doubled. */
function escapeOptionValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/**
 * The -accel value. Under TCG the guest's vCPUs share one host thread: with one thread per
 * vCPU (MTTCG), the kernel's cross-CPU code patching (text_poke_bp, e.g. when sched_clock is
 * marked stable during late initcalls) can race with another vCPU's translated code, and the
 * guest dies with "Oops: int3" before userspace now and then. Measured here: the guest boots
 * and runs Node as fast with one thread (2 host cores, one VM at a time).
 */
export function accelOption(accel: Accelerator): string {
  return accel === 'tcg' ? 'tcg,thread=single' : accel;
}

/** The argv (without the binary) of qemu-system-x86_64 for one boot of a test VM. */
export function buildQemuArgv(spec: QemuVmSpec): string[] {
  const p = escapeOptionValue;
  const argv: string[] = [];
  if (spec.name !== undefined) argv.push('-name', spec.name);
  argv.push(
    '-machine', 'q35',
    '-accel', accelOption(spec.accel),
    '-cpu', 'max',
    '-m', String(spec.memoryMiB ?? DEFAULT_MEMORY_MIB),
    '-smp', String(spec.cpus ?? DEFAULT_CPUS),
    '-nodefaults',
    '-display', 'none',
  );
  // A guest reboot ends QEMU; the test boots the same disk again. On a terminal the guest reboots in place.
  if (spec.interactive !== true) argv.push('-no-reboot');
  argv.push(
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${p(spec.firmwareCode)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${p(spec.firmwareVars)}`,
    '-drive', `if=none,id=disk0,format=qcow2,file=${p(spec.disk)}`,
    '-device', 'virtio-blk-pci,drive=disk0,bootindex=0',
  );
  if (spec.interactive === true) {
    // ttyS0 on this terminal and in the log; signal=off: Ctrl-C goes to the guest, Ctrl-A X ends QEMU.
    argv.push('-chardev', `stdio,id=console,mux=on,signal=off,logfile=${p(spec.consoleLog)},logappend=on`, '-serial', 'chardev:console', '-mon', 'chardev=console,mode=readline');
  } else {
    // ttyS0: the console, appended so every boot of a machine lands in one log.
    argv.push('-chardev', `file,id=console,path=${p(spec.consoleLog)},append=on`, '-serial', 'chardev:console');
  }
  argv.push(
    // ttyS1: the guest's debug shell.
    '-chardev', `socket,id=shell,path=${p(spec.shellSocket)},server=on,wait=off`,
    '-serial', 'chardev:shell',
    '-chardev', `socket,id=qmp,path=${p(spec.qmpSocket)},server=on,wait=off`,
    '-mon', 'chardev=qmp,mode=control',
    '-netdev', netdevValue(spec),
    '-device', 'virtio-net-pci,netdev=n0',
  );
  (spec.privateNics ?? []).forEach((nic, i) => {
    // Connects to the hub on loopback: the only peers are the project's own VMs.
    argv.push('-netdev', `socket,id=p${i},connect=${LOOPBACK}:${nic.hubPort}`, '-device', `virtio-net-pci,netdev=p${i},mac=${nic.mac}`);
  });
  argv.push(
    // Entropy early in boot: under TCG the guest's RNG would otherwise be slow to seed.
    '-device', 'virtio-rng-pci',
    // A hardware watchdog as real machines have: init pings it, and a hung guest is reset
    // (which ends QEMU under -no-reboot, like any reboot).
    '-device', 'i6300esb',
    '-action', 'watchdog=reset',
  );
  (spec.extraDrives ?? []).forEach((drive, i) => {
    if (drive.kind === 'cdrom') {
      // q35's on-board AHCI controller (ide.0-5); the guest needs sr_mod to see it.
      argv.push('-drive', `if=none,id=extra${i},format=raw,media=cdrom,readonly=on,file=${p(drive.file)}`, '-device', `ide-cd,drive=extra${i},bus=ide.${i}`);
    } else {
      argv.push('-drive', `if=none,id=extra${i},format=raw,file=${p(drive.file)}`, '-device', `virtio-blk-pci,drive=extra${i}`);
    }
  });
  if (spec.configFile !== undefined) {
    argv.push('-fw_cfg', `name=${FW_CFG_CONFIG_NAME},file=${p(spec.configFile)}`);
  }
  return argv;
}

/** qemu-img arguments creating a copy-on-write overlay; the base stays pristine. */
export function overlayCreateArgs(baseAbsolutePath: string, overlayPath: string, sizeBytes: number, baseFormat: 'qcow2' | 'raw' = 'qcow2'): string[] {
  if (!baseAbsolutePath.startsWith('/')) {
    throw new BerthError('QEMU_OVERLAY_INVALID', `Refusing overlay base ${baseAbsolutePath}: give an absolute path`);
  }
  return ['create', '-f', 'qcow2', '-F', baseFormat, '-b', baseAbsolutePath, overlayPath, String(sizeBytes)];
}

/** qemu-io arguments writing `length` bytes of `pattern` at `offset` into a qcow2 (the top layer only). */
export function patternWriteArgs(image: string, offset: number, length: number, pattern: number): string[] {
  const hex = `0x${pattern.toString(16).padStart(2, '0')}`;
  return ['-f', 'qcow2', '-c', `write -P ${hex} ${offset} ${length}`, image];
}

/** Arguments of the accelerator probe: firmware only, no disk, no network, serial to a file. */
export function buildProbeArgv(spec: Pick<QemuVmSpec, 'accel' | 'firmwareCode' | 'firmwareVars' | 'consoleLog'>): string[] {
  const p = escapeOptionValue;
  return [
    '-machine', 'q35',
    '-accel', spec.accel,
    '-cpu', 'max',
    '-m', '256',
    '-nodefaults',
    '-display', 'none',
    '-no-reboot',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${p(spec.firmwareCode)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${p(spec.firmwareVars)}`,
    '-chardev', `file,id=console,path=${p(spec.consoleLog)}`,
    '-serial', 'chardev:console',
    '-net', 'none',
  ];
}
