/**
 * Issues X.509 certificates for the management API's mutual TLS with node:crypto alone:
 * node can parse certificates (X509Certificate) but not make them, so the TBSCertificate is
 * DER-encoded here and signed with crypto.sign (ECDSA P-256 with SHA-256). Used by
 * `berth keys api` (and `berth keys fleet`) on the operator's machine and by init for its first-boot server certificate,
 * where there is no openssl. Effects: key generation and randomness through node:crypto only.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

// --- DER encoding -----------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bitString = (content: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const bool = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

/** A non-negative INTEGER from big-endian bytes (a leading 0x00 keeps it positive). */
function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = parts;
  const out: number[] = [first * 40 + second];
  for (const part of rest) {
    const chunk: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  if (date.getUTCFullYear() < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

function name(commonName: string): Buffer {
  return seq(set(seq(oid(OID.organization), utf8('berth'))), set(seq(oid(OID.commonName), utf8(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // IPv6: expand "::" and write eight 16-bit groups.
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

function subjectAltNames(names: readonly string[]): Buffer {
  return seq(
    ...names.map((entry) => (isIP(entry) === 0 ? tlv(0x82, Buffer.from(entry, 'ascii')) : tlv(0x87, ipBytes(entry)))),
  );
}

/** The SubjectPublicKeyInfo's key bits hashed with SHA-1, as RFC 5280 4.2.1.2 method (1) says. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // The BIT STRING is the last element of the SPKI sequence; for P-256 it is 65 key bytes after a 0 byte.
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
}

// --- certificates -----------------------------------------------------------------------------

/** What a certificate is for: the API's CA, the API server, or a client (an operator or script). */
export type CertificateRole = 'ca' | 'server' | 'client';

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** The issuer of a certificate: a CA's certificate and key (PEM). Without it the certificate signs itself. */
export interface Issuer {
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  role: CertificateRole;
  commonName: string;
  /** DNS names and IP addresses the certificate is valid for (servers). */
  altNames?: readonly string[];
  notBefore: Date;
  validDays: number;
  issuer?: Issuer;
}

/** Makes a new P-256 key and a certificate for it, signed by `issuer` (or by itself). */
export function issueCertificate(request: CertificateRequest): IssuedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuerKey = request.issuer ? createPrivateKey(request.issuer.keyPem) : privateKey;
  const issuerCert = request.issuer ? new X509Certificate(request.issuer.certPem) : undefined;
  if (issuerCert && !issuerCert.ca) throw new Error(`The issuer certificate (${issuerCert.subject.replace(/\n/g, ', ')}) is not a CA`);
  const issuerPublic = issuerCert ? issuerCert.publicKey : publicKey;
  const issuerName = issuerCert ? subjectOf(issuerCert.raw) : name(request.commonName);
  const notAfter = new Date(request.notBefore.getTime() + request.validDays * 86_400_000);
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const isCa = request.role === 'ca';
  const extensions = [
    extension(OID.basicConstraints, true, isCa ? seq(bool(true)) : seq()),
    // CA: keyCertSign + cRLSign (bits 5, 6) and digitalSignature; leaves: digitalSignature (bit 0).
    extension(OID.keyUsage, true, isCa ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7)),
    ...(isCa ? [] : [extension(OID.extKeyUsage, false, seq(oid(request.role === 'server' ? OID.serverAuth : OID.clientAuth)))]),
    ...(request.altNames && request.altNames.length > 0 ? [extension(OID.subjectAltName, false, subjectAltNames(request.altNames))] : []),
    extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(publicKey))),
    extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyIdentifier(issuerPublic)))),
  ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(
    explicit(0, tlv(0x02, Buffer.from([2]))),
    unsignedInteger(serial),
    algorithm,
    issuerName,
    seq(time(request.notBefore), time(notAfter)),
    name(request.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, issuerKey);
  const der = seq(tbs, algorithm, bitString(signature));
  return { certPem: toPem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The subject Name of a DER certificate, byte for byte (the issuer field of what it signs). */
function subjectOf(der: Buffer): Buffer {
  // Certificate > TBSCertificate > [version, serial, signature, issuer, validity, subject, ...]
  const tbs = children(children(der)[0] ?? Buffer.alloc(0));
  const subject = tbs[tbs[0]?.[0] === 0xa0 ? 5 : 4];
  if (!subject) throw new Error('Cannot read the subject of the issuer certificate');
  return subject;
}

/** The encoded children of a constructed DER value. */
function children(value: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let [offset, end] = header(value, 0);
  end = Math.min(end, value.length);
  while (offset < end) {
    const [, contentEnd] = header(value, offset);
    out.push(value.subarray(offset, contentEnd));
    offset = contentEnd;
  }
  return out;
}

/** [content start, content end] of the DER value at `offset`. */
function header(value: Buffer, offset: number): [number, number] {
  const first = value[offset + 1] ?? 0;
  if (first < 0x80) return [offset + 2, offset + 2 + first];
  const count = first & 0x7f;
  let len = 0;
  for (let i = 0; i < count; i += 1) len = len * 256 + (value[offset + 2 + i] ?? 0);
  return [offset + 2 + count, offset + 2 + count + len];
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The SHA-256 fingerprint of a PEM certificate as lowercase hex without colons. */
export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** True when the PEM key is the private key of the PEM certificate. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
}
