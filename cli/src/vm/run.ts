/**
 * `berth vm run`: boots a built image under QEMU with the console on this terminal (Ctrl-A X
 * leaves), the machine config validated first and given through fw_cfg, forwards on 127.0.0.1
 * only (the API's port among them), and prints how to reach it. Effects: files under the
 * machine's directory (out/vm/<name>/, or --persist DIR, kept), its API keys (out/vm/keys/<name>/,
 * kept for the next run), QEMU, a network hub.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../../lib/config/problems.ts';
import { createMachine, REPO_ROOT, type HostForward, type Vm } from '../../../vm/src/index.ts';
import type { VmRunCommand } from './args.ts';
import { ctlCommandLine, SERVER_CERT_PATTERN } from './machine-config.ts';
import { ensureVmKeys, findImage, joinNetwork, readMachineConfig, type JoinedNetwork } from './machines.ts';

export interface VmRunIo {
  /** Messages of berth itself (the console is QEMU's, on the terminal). */
  err(text: string): void;
  now(): Date;
}

/** Where `berth vm` keeps machines and network records. */
export function vmOutRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.BERTH_VM_DIR ?? path.join(REPO_ROOT, 'out', 'vm'));
}

/** Boots the VM and returns QEMU's exit status when it ends; 1 (before QEMU starts) on a bad config. */
export async function runVm(command: VmRunCommand, io: VmRunIo): Promise<number> {
  const name = command.name ?? 'vm';
  const dir = command.persist === undefined ? path.join(vmOutRoot(), name) : path.resolve(command.persist);
  // Not in the machine's directory unless it is kept: createMachine empties that directory.
  const keysDir = command.persist === undefined ? path.join(vmOutRoot(), 'keys', name) : path.join(dir, 'keys');
  const keys = await ensureVmKeys(keysDir, io.now());
  let prepared;
  try {
    prepared = await readMachineConfig(command.config, keys.caPem);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`berth vm run: refusing to boot, the machine config is invalid:\n${error.message}\n`);
      return 1;
    }
    throw error;
  }
  for (const warning of prepared.warnings) io.err(`warning: ${warning}\n`);
  const image = await findImage(command.target);

  // Port 0 is any free port: the machine picks it (again, should another process take it first).
  const forwards: HostForward[] = command.forwards.map((f) => ({ ...f }));
  const isApi = (f: HostForward) => f.protocol === 'tcp' && f.guestPort === prepared.apiPort;
  if (prepared.apiPort !== undefined && !forwards.some(isApi)) forwards.push({ protocol: 'tcp', hostPort: 0, guestPort: prepared.apiPort });
  let network: JoinedNetwork | undefined;
  if (command.network !== undefined) network = await joinNetwork(path.join(vmOutRoot(), 'networks'), command.network, name);
  try {
    const machine = await createMachine({
      name,
      dir,
      keepDisk: command.persist !== undefined,
      image,
      config: prepared.text,
      hostForwards: forwards,
      ...(command.memoryMiB === undefined ? {} : { memoryMiB: command.memoryMiB }),
      ...(command.cpus === undefined ? {} : { cpus: command.cpus }),
      ...(command.diskBytes === undefined ? {} : { diskBytes: command.diskBytes }),
      ...(network ? { privateNics: [network.nic] } : {}),
      onForwardMoved: (from, to) => io.err(`berth vm: 127.0.0.1:${from.hostPort} was taken before QEMU could listen on it; 127.0.0.1:${to.hostPort}/${to.protocol} -> guest port ${to.guestPort} instead\n`),
    });
    const version = 'manifest' in image ? `berth ${image.manifest.version}` : image.disk;
    io.err(`berth vm: booting ${version} (${machine.accel === 'kvm' ? 'KVM' : 'TCG software emulation: slow'}); machine ${machine.paths.dir}\n`);
    for (const f of machine.hostForwards) io.err(`berth vm: 127.0.0.1:${f.hostPort}/${f.protocol} -> guest port ${f.guestPort}${isApi(f) ? ' (the API)' : ''}\n`);
    if (network) io.err(`berth vm: private network ${command.network} (mac ${network.nic.mac}${network.hub ? ', hub in this process' : ''})\n`);
    io.err('berth vm: the console follows; Ctrl-A X leaves, Ctrl-A C is the QEMU monitor\n\n');
    const vm = await machine.boot({ interactive: true });
    const apiHostPort = machine.hostForwards.find(isApi)?.hostPort;
    if (apiHostPort !== undefined) void announceApi(vm, apiHostPort, prepared.addedApi ? keys : undefined, io);
    const exit = await vm.exited;
    io.err(`\nberth vm: QEMU ended (${exit.signal ?? `code ${exit.code}`})${command.persist === undefined ? '' : `; the disk is kept in ${dir}`}\n`);
    if (command.persist === undefined) await rm(dir, { recursive: true, force: true });
    return exit.code ?? 1;
  } finally {
    await network?.leave();
  }
}

/** Once init logs its API certificate, prints the `berth ctl` line that reaches it. */
async function announceApi(vm: Vm, hostPort: number, keys: { cert: string; key: string } | undefined, io: VmRunIo): Promise<void> {
  try {
    const found = await vm.waitFor(SERVER_CERT_PATTERN, 24 * 60 * 60 * 1000);
    const sha = found.match[1] ?? '';
    const line = ctlCommandLine(hostPort, keys?.cert ?? 'YOUR-CLIENT.crt', keys?.key ?? 'YOUR-CLIENT.key', sha);
    io.err(`\r\nberth vm: the API answers on 127.0.0.1:${hostPort}; try (in another terminal):\r\n  ${line}\r\n`);
  } catch {
    // QEMU ended before the API came up: nothing to announce.
  }
}
