/**
 * Machine config section `api`: where the management API listens beyond its Unix socket
 * (/run/berth/api.sock, always on), and the mutual TLS material for those TCP listeners.
 * A certificate or key is given inline as PEM or as an absolute path on the host. Pure schema.
 */
import { array, object, string, type Shape } from '../validate.ts';

// "0.0.0.0:7443", "192.0.2.10:7443", "[::]:7443", "[fd00::1]:7443"
const LISTEN = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

/** The port of a listen address written as `ADDRESS:PORT` or `[IPV6]:PORT`. */
export function listenPort(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

/** The address of a listen address, without brackets. */
export function listenHost(listen: string): string {
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** `ADDRESS:PORT` or `[IPV6]:PORT`, checked. */
export const listenAddress = string({ pattern: LISTEN, expected: 'an address and port like "0.0.0.0:7443" or "[::]:7443"' }).refine((value) => {
  const port = listenPort(value);
  if (port < 1 || port > 65535) return `port ${port} is out of range (1-65535)`;
  const host = listenHost(value);
  if (!host.includes(':') && host.split('.').some((octet) => Number(octet) > 255)) return `"${host}" is not an IPv4 address`;
  return undefined;
});

/** PEM text (`-----BEGIN ...`) or an absolute path to a PEM file. */
export const pemOrPath = string({
  pattern: /^(?:-----BEGIN [A-Z0-9 ]+-----[\s\S]+-----END [A-Z0-9 ]+-----\s*|\/\S+)$/,
  expected: 'PEM text ("-----BEGIN ...") or an absolute path to a PEM file',
});

/**
 * `api: { listen: [...], client_ca, server_cert, server_key }`. TCP listeners need `client_ca`
 * (the CA that issued the clients' certificates: `berth keys api ca`); without `server_cert` and
 * `server_key` init makes a self-signed server certificate at first boot and keeps it under
 * /var/lib/berth/api/.
 */
export const apiSection = {
  api: object({
    listen: array(listenAddress, { maxItems: 8 }).default([]),
    client_ca: pemOrPath.optional(),
    server_cert: pemOrPath.optional(),
    server_key: pemOrPath.optional(),
  })
    .refine((api, report) => {
      if (api.listen.length > 0 && api.client_ca === undefined) {
        report('TCP listeners need client_ca: the CA that issues client certificates (make one with `berth keys api ca`)', { path: ['client_ca'] });
      }
      if ((api.server_cert === undefined) !== (api.server_key === undefined)) {
        report('server_cert and server_key go together (leave both out to have a certificate made at first boot)', {
          path: [api.server_cert === undefined ? 'server_cert' : 'server_key'],
        });
      }
    })
    .default(),
} satisfies Shape;
