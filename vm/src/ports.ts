/**
 * Free TCP ports on 127.0.0.1 for forwards and hubs. Effects: binds and releases a loopback port.
 */
import { createServer, type AddressInfo } from 'node:net';
import { LOOPBACK } from './qemu-argv.ts';

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, LOOPBACK, () => done());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
