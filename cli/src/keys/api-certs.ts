/**
 * `berth keys api`: makes the management API's CA, client and server certificates on the
 * operator's machine with lib/tls/x509.ts (node:crypto; no openssl needed). Never overwrites a
 * file. Effects: reads the CA from --ca-dir, writes the new files (keys 0600).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../../lib/errors.ts';
import { certificateFingerprint, issueCertificate, type Issuer } from '../../../lib/tls/x509.ts';
import type { ApiKeysCommand } from './args.ts';

/** Default validity in days: 10 years for the CA, about 2 years for leaves (825 days, as browsers cap). */
export const DEFAULT_DAYS = { ca: 3650, client: 825, server: 825 } as const;

/** The files a command writes, relative to --out. */
export function keyFileNames(command: ApiKeysCommand): { cert: string; key: string } {
  const base = command.role === 'ca' ? 'ca' : command.role === 'server' ? 'server' : (command.name ?? 'client');
  return { cert: `${base}.crt`, key: `${base}.key` };
}

async function loadIssuer(dir: string): Promise<Issuer> {
  try {
    return { certPem: await readFile(path.join(dir, 'ca.crt'), 'utf8'), keyPem: await readFile(path.join(dir, 'ca.key'), 'utf8') };
  } catch (error) {
    throw new BerthError('KEYS_NO_CA', `No CA in ${dir} (ca.crt and ca.key): make one with 'berth keys api ca --out ${dir}' or pass --ca-dir`, { cause: error });
  }
}

async function writeNew(file: string, data: string, mode: number): Promise<void> {
  try {
    await writeFile(file, data, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BerthError('KEYS_EXISTS', `${file} exists; refusing to overwrite it (pick another --out or --name)`);
    throw error;
  }
}

/** Makes the certificate and key; returns the lines to print. */
export async function runApiKeys(command: ApiKeysCommand, now: Date): Promise<string[]> {
  const issuer = command.role === 'ca' ? undefined : await loadIssuer(command.caDir ?? command.outDir);
  const commonName = command.name ?? (command.role === 'ca' ? 'berth API CA' : command.role === 'server' ? (command.hosts[0] ?? 'berth') : 'client');
  const issued = issueCertificate({
    role: command.role,
    commonName,
    ...(command.role === 'server' ? { altNames: command.hosts } : {}),
    notBefore: new Date(now.getTime() - 5 * 60_000), // a little slack for clocks behind ours
    validDays: command.days ?? DEFAULT_DAYS[command.role],
    ...(issuer ? { issuer } : {}),
  });
  const names = keyFileNames(command);
  await mkdir(command.outDir, { recursive: true });
  const certFile = path.join(command.outDir, names.cert);
  const keyFile = path.join(command.outDir, names.key);
  // Key first, so a certificate is never left without its key.
  await writeNew(keyFile, issued.keyPem, 0o600);
  await writeNew(certFile, issued.certPem, 0o644);
  const lines = [`Wrote ${certFile} and ${keyFile} (CN=${commonName}, sha256 ${certificateFingerprint(issued.certPem)})`];
  if (command.role === 'ca') lines.push(`Put ${certFile} in the machine config as api.client_ca (inline PEM or a path on the host); keep ${keyFile} off the host`);
  if (command.role === 'client') lines.push(`Use it as: berth ctl --host https://HOST:7443 --cert ${certFile} --key ${keyFile} (--ca SERVER_CA | --server-sha256 FINGERPRINT) status`);
  if (command.role === 'server') lines.push(`Put them in the machine config as api.server_cert and api.server_key; clients then pass --ca with this CA`);
  return lines;
}

/** A CA and one client certificate signed by it, as `berth keys api ca` and `client` write them. */
export interface ApiClientKeys {
  /** The CA certificate (PEM), for the machine config's `api.client_ca`. */
  caPem: string;
  /** Paths of the client certificate and key. */
  cert: string;
  key: string;
}

/**
 * Makes a CA and a client certificate named `clientName` in `dir` (as `berth keys api ca --out
 * DIR` then `berth keys api client --out DIR --name NAME`); refuses to overwrite either.
 */
export async function makeApiClientKeys(dir: string, clientName: string, now: Date): Promise<ApiClientKeys> {
  await runApiKeys({ kind: 'keys-api', role: 'ca', outDir: dir, hosts: [] }, now);
  await runApiKeys({ kind: 'keys-api', role: 'client', outDir: dir, name: clientName, hosts: [] }, now);
  return { caPem: await readFile(path.join(dir, 'ca.crt'), 'utf8'), cert: path.join(dir, `${clientName}.crt`), key: path.join(dir, `${clientName}.key`) };
}
