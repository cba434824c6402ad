/**
 * A private network between VMs: a hub on 127.0.0.1 that QEMU socket netdevs connect to
 * (`-netdev socket,connect=127.0.0.1:PORT`). Every Ethernet frame one VM sends goes to every
 * other VM on the hub, and nowhere else. QEMU's stream framing: a 4-byte big-endian length,
 * then the frame. Effects: listens on a loopback TCP port.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { BerthError } from '../../lib/errors.ts';
import { LOOPBACK } from './qemu-argv.ts';

/** The largest frame accepted (a jumbo frame with headroom); a bigger length means a broken peer. */
export const MAX_FRAME_BYTES = 65_536;

/** Splits QEMU stream framing: complete frames out, the unfinished rest kept. Pure. */
export function splitFrames(buffer: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let offset = 0;
  while (buffer.length - offset >= 4) {
    const length = buffer.readUInt32BE(offset);
    if (length > MAX_FRAME_BYTES) throw new BerthError('VM_NETWORK_FRAME_INVALID', `A VM sent a frame of ${length} bytes (at most ${MAX_FRAME_BYTES}); closing its connection`);
    if (buffer.length - offset - 4 < length) break;
    frames.push(buffer.subarray(offset, offset + 4 + length));
    offset += 4 + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/** A running hub. */
export interface NetworkHub {
  readonly port: number;
  /** Connected VMs. */
  peers(): number;
  close(): Promise<void>;
}

/** Starts a hub on 127.0.0.1 (`port` 0: any free port). */
export async function startNetworkHub(port = 0): Promise<NetworkHub> {
  const peers = new Set<Socket>();
  const server: Server = createServer((socket) => {
    peers.add(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      let split;
      try {
        split = splitFrames(Buffer.concat([pending, chunk]));
      } catch {
        socket.destroy();
        return;
      }
      pending = Buffer.from(split.rest);
      for (const frame of split.frames) {
        for (const peer of peers) if (peer !== socket && !peer.destroyed) peer.write(frame);
      }
    });
    const drop = (): void => void peers.delete(socket);
    socket.on('close', drop);
    socket.on('error', drop);
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, LOOPBACK, () => done());
  });
  return {
    port: (server.address() as AddressInfo).port,
    peers: () => peers.size,
    close: () =>
      new Promise<void>((done) => {
        for (const peer of peers) peer.destroy();
        server.close(() => done());
      }),
  };
}

/** A stable, locally administered unicast MAC for `vm` on `network` (52:54:00 is QEMU's prefix). */
export function privateMac(network: string, vm: string, hash: (text: string) => Buffer): string {
  const bytes = hash(`${network}/${vm}`);
  return ['52', '54', '00', ...[0, 1, 2].map((i) => (bytes[i] ?? 0).toString(16).padStart(2, '0'))].join(':');
}
