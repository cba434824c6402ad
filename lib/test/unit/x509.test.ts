/**
 * Certificates from lib/tls/x509.ts: node parses them and checks the chain, and OpenSSL (the
 * reference implementation TLS peers use) verifies them for their purpose; names, extensions,
 * validity and fingerprints.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import t from 'tap';
import { certificateFingerprint, issueCertificate, keyMatchesCertificate } from '../../tls/x509.ts';

const run = promisify(execFile);
const notBefore = new Date('2026-01-01T00:00:00Z');
const ca = issueCertificate({ role: 'ca', commonName: 'berth API CA', notBefore, validDays: 3650 });
const server = issueCertificate({ role: 'server', commonName: 'host1', altNames: ['host1.example', '127.0.0.1', 'fd00::1'], notBefore, validDays: 825, issuer: ca });
const client = issueCertificate({ role: 'client', commonName: 'admin', notBefore, validDays: 825, issuer: ca });

void t.test('node reads them and checks the chain', async (t) => {
  const caCert = new X509Certificate(ca.certPem);
  const serverCert = new X509Certificate(server.certPem);
  t.ok(caCert.ca);
  t.equal(caCert.subject, 'O=berth\nCN=berth API CA');
  t.ok(caCert.verify(caCert.publicKey), 'the CA signs itself');
  t.equal(serverCert.issuer, caCert.subject);
  t.ok(serverCert.checkIssued(caCert) && serverCert.verify(caCert.publicKey), 'the server certificate is signed by the CA');
  t.equal(serverCert.subjectAltName, 'DNS:host1.example, IP Address:127.0.0.1, IP Address:FD00:0:0:0:0:0:0:1');
  t.ok(serverCert.checkHost('host1.example'));
  t.equal(serverCert.validFrom, 'Jan  1 00:00:00 2026 GMT');
  t.equal(serverCert.validTo, 'Apr  5 00:00:00 2028 GMT');
  t.equal(new X509Certificate(issueCertificate({ role: 'ca', commonName: 'far', notBefore: new Date('2049-06-01T00:00:00Z'), validDays: 3650 }).certPem).validTo, 'May 30 00:00:00 2059 GMT', 'GeneralizedTime after 2049');
  t.ok(keyMatchesCertificate(server.certPem, server.keyPem));
  t.notOk(keyMatchesCertificate(server.certPem, client.keyPem));
  t.match(certificateFingerprint(server.certPem), /^[0-9a-f]{64}$/);
  t.throws(() => issueCertificate({ role: 'client', commonName: 'x', notBefore, validDays: 1, issuer: server }), /not a CA/);
});

void t.test('OpenSSL verifies them for their purpose', async (t) => {
  const dir = t.testdir();
  await Promise.all([writeFile(`${dir}/ca.crt`, ca.certPem), writeFile(`${dir}/server.crt`, server.certPem), writeFile(`${dir}/client.crt`, client.certPem)]);
  const openssl = await run('openssl', ['version']).catch(() => undefined);
  if (!openssl) {
    t.fail('openssl is missing on this machine: apt-get install openssl (the suite checks certificates with it)');
    return;
  }
  const verify = (purpose: string, file: string) => run('openssl', ['verify', '-attime', '1770000000', '-CAfile', `${dir}/ca.crt`, '-purpose', purpose, `${dir}/${file}`]);
  t.match((await verify('sslserver', 'server.crt')).stdout, /server\.crt: OK/);
  t.match((await verify('sslclient', 'client.crt')).stdout, /client\.crt: OK/);
  await t.rejects(verify('sslserver', 'client.crt'), 'a client certificate is not a server certificate');
  const text = (await run('openssl', ['x509', '-in', `${dir}/ca.crt`, '-noout', '-text'])).stdout;
  t.match(text, /CA:TRUE/);
  t.match(text, /Certificate Sign, CRL Sign/);
});
