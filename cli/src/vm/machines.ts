/**
 * What `berth vm run` and `berth vm test` share: finding the image to boot, making the VM's
 * client certificate, reading and preparing its machine config, and joining a private network.
 * Effects: reads files, writes keys under the VM's directory, may start a network hub.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from 'node:net';
import { BerthError, describeError } from '../../../lib/errors.ts';
import { defaultImageDir, loadImage, privateMac, startNetworkHub, type BuiltImage, type DiskFile, type NetworkHub, type PrivateNic } from '../../../vm/src/index.ts';
import { makeApiClientKeys } from '../keys/api-certs.ts';
import { prepareConfig, type PreparedConfig } from './machine-config.ts';

/** An image directory (manifest.json), a disk file (.qcow2, .raw, .img), or the default image. */
export async function findImage(target: string | undefined): Promise<BuiltImage | DiskFile> {
  if (target === undefined) return loadImage(defaultImageDir());
  let isDir: boolean;
  try {
    isDir = (await stat(target)).isDirectory();
  } catch (error) {
    throw new BerthError('VM_IMAGE_MISSING', `No image at ${target}: give an image directory from \`berth build\` (e.g. out/qemu) or a disk file`, { cause: error });
  }
  if (isDir) return loadImage(path.resolve(target));
  if (target.endsWith('.qcow2')) return { disk: path.resolve(target), format: 'qcow2' };
  if (target.endsWith('.raw') || target.endsWith('.img')) return { disk: path.resolve(target), format: 'raw' };
  throw new BerthError('VM_IMAGE_MISSING', `Cannot tell the format of ${target}: give an image directory, or a disk named *.qcow2 or *.raw`);
}

/** The VM's client certificate for its API (a CA and `admin`, as `berth keys api` makes them); kept when present. */
export interface VmKeys {
  caPem: string;
  cert: string;
  key: string;
}

export async function ensureVmKeys(dir: string, now: Date): Promise<VmKeys> {
  const cert = path.join(dir, 'admin.crt');
  const key = path.join(dir, 'admin.key');
  const ca = path.join(dir, 'ca.crt');
  const exists = await stat(cert).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(dir, { recursive: true });
    return makeApiClientKeys(dir, 'admin', now);
  }
  return { caPem: await readFile(ca, 'utf8'), cert, key };
}

/** Reads and prepares a machine config file (undefined: an empty config); ConfigError lists every problem. */
export async function readMachineConfig(file: string | undefined, caPem: string | undefined): Promise<PreparedConfig> {
  if (file === undefined) return prepareConfig('', 'the empty machine config', caPem);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new BerthError('CONFIG_UNREADABLE', `Cannot read the machine config ${file}: ${describeError(error)}`, { cause: error });
  }
  return prepareConfig(text, file, caPem);
}

/** A private network joined: the card to give QEMU, and how to leave it. */
export interface JoinedNetwork {
  nic: PrivateNic;
  /** Set when this process hosts the network's hub (it ends with this process). */
  hub?: NetworkHub;
  leave(): Promise<void>;
}

async function isListening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

/**
 * Joins network `name` (state in `stateDir/<name>.json`): connects to its hub when one is running,
 * or starts one in this process. The MAC is derived from the network and VM names.
 */
export async function joinNetwork(stateDir: string, name: string, vmName: string): Promise<JoinedNetwork> {
  const file = path.join(stateDir, `${name}.json`);
  const mac = privateMac(name, vmName, (text) => createHash('sha256').update(text).digest());
  try {
    const { port } = JSON.parse(await readFile(file, 'utf8')) as { port: number };
    if (typeof port === 'number' && (await isListening(port))) return { nic: { hubPort: port, mac }, leave: () => Promise.resolve() };
  } catch {
    // No hub recorded, or an unreadable record: start one.
  }
  const hub = await startNetworkHub();
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, JSON.stringify({ port: hub.port, pid: process.pid }) + '\n');
  return {
    nic: { hubPort: hub.port, mac },
    hub,
    leave: async () => {
      await hub.close();
      await rm(file, { force: true });
    },
  };
}
