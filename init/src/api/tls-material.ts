/**
 * Certificates and keys of the API's TLS listeners: the client CA and server certificate from
 * the machine config (inline PEM or a path), or a server certificate made at first boot and kept
 * under /var/lib/berth/api/ so its fingerprint stays the same across boots.
 * Effects: reads the configured files, writes the generated key (0600) and certificate.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { BerthError } from '../../../lib/errors.ts';
import type { MachineConfig } from '../../../lib/config/machine-config.ts';
import { PATHS } from '../../../lib/layout.ts';
import { writeFileAtomically } from '../../../lib/sys/atomic-file.ts';
import { certificateFingerprint, issueCertificate, keyMatchesCertificate } from '../../../lib/tls/x509.ts';
import type { TlsMaterial } from './server.ts';

/** Validity of a generated server certificate. */
export const GENERATED_CERT_DAYS = 3650;

export const GENERATED_CERT_FILE = `${PATHS.apiStateDir}/server.crt`;
export const GENERATED_KEY_FILE = `${PATHS.apiStateDir}/server.key`;

async function pemOrFile(value: string, what: string): Promise<string> {
  if (value.startsWith('-----BEGIN')) return value;
  try {
    return await readFile(value, 'utf8');
  } catch (error) {
    throw new BerthError('API_TLS_MATERIAL', `Cannot read ${what} from ${value}: fix the path in the machine config`, { cause: error });
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function writeReplacing(path: string, data: string, mode: number): Promise<void> {
  await writeFileAtomically(path, data, { mode });
}

/** TLS material plus how the server certificate came to be and its SHA-256 fingerprint. */
export interface ResolvedTls extends TlsMaterial {
  serverCert: 'config' | 'generated' | 'kept';
  fingerprint: string;
}

/** Resolves the material for the configured listeners; throws API_TLS_MATERIAL naming what is wrong. */
export async function resolveTlsMaterial(api: MachineConfig['api'], hostname: string, now: Date): Promise<ResolvedTls> {
  if (api.client_ca === undefined) throw new BerthError('API_TLS_MATERIAL', 'api.listen needs api.client_ca');
  const clientCaPem = await pemOrFile(api.client_ca, 'api.client_ca');
  if (api.server_cert !== undefined && api.server_key !== undefined) {
    const certPem = await pemOrFile(api.server_cert, 'api.server_cert');
    const keyPem = await pemOrFile(api.server_key, 'api.server_key');
    if (!keyMatchesCertificate(certPem, keyPem)) throw new BerthError('API_TLS_MATERIAL', 'api.server_key is not the key of api.server_cert');
    return { certPem, keyPem, clientCaPem, serverCert: 'config', fingerprint: certificateFingerprint(certPem) };
  }
  const keptCert = await readIfPresent(GENERATED_CERT_FILE);
  const keptKey = await readIfPresent(GENERATED_KEY_FILE);
  if (keptCert !== undefined && keptKey !== undefined) {
    try {
      if (keyMatchesCertificate(keptCert, keptKey)) {
        return { certPem: keptCert, keyPem: keptKey, clientCaPem, serverCert: 'kept', fingerprint: certificateFingerprint(keptCert) };
      }
    } catch {
      // Unreadable kept files are replaced below.
    }
  }
  const issued = issueCertificate({ role: 'server', commonName: hostname, altNames: [hostname, 'localhost'], notBefore: now, validDays: GENERATED_CERT_DAYS });
  await mkdir(PATHS.apiStateDir, { recursive: true, mode: 0o700 });
  // Key first: a certificate on disk without its key would be replaced anyway at the next boot.
  await writeReplacing(GENERATED_KEY_FILE, issued.keyPem, 0o600);
  await writeReplacing(GENERATED_CERT_FILE, issued.certPem, 0o644);
  return { certPem: issued.certPem, keyPem: issued.keyPem, clientCaPem, serverCert: 'generated', fingerprint: certificateFingerprint(issued.certPem) };
}
