/**
 * `berth keys FAMILY …`: the family table's parsing (snapshots of commands and usage errors,
 * including the former single-family spellings), and the API certificates `berth keys api` makes.
 */
import { readFile, stat } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { errorCode, isBerthError } from '../../../lib/errors.ts';
import { HELP_TEXT, parseCliArgs } from '../../src/args.ts';
import { makeApiClientKeys, runApiKeys } from '../../src/keys/api-certs.ts';
import { KEY_FAMILIES, parseApiKeysArgs, parseKeysArgs } from '../../src/keys/args.ts';

function parseOrError(argv: string[]): unknown {
  try {
    return parseCliArgs(argv);
  } catch (error) {
    if (isBerthError(error, 'CLI_USAGE')) return `CLI_USAGE: ${error.message}`;
    throw error;
  }
}

const CASES: string[][] = [
  ['keys', 'update-signing', 'generate', '--out', 'k'],
  ['keys', 'update-signing', 'generate', '--out=k'],
  ['keys', 'update-signing', 'generate'],
  ['keys', 'update-signing', 'generate', '--out', 'k', '--force'],
  ['keys', 'update-signing'],
  ['keys', 'update-signing', 'rotate'],
  ['keys', 'api', 'ca', '--out', 'keys'],
  ['keys', 'api', 'client', '--out', 'keys', '--name', 'ops-laptop', '--days', '90'],
  ['keys', 'api', 'client', '--ca-dir', 'ca', '--out', 'out'],
  ['keys', 'api', 'server', '--host', 'host1.example', '--host', '192.0.2.10', '--out', 'keys'],
  ['keys', 'api'],
  ['keys', 'api', 'root'],
  ['keys', 'api', 'server'],
  ['keys', 'api', 'ca', '--ca-dir', 'x'],
  ['keys', 'api', 'client', '--host', 'x'],
  ['keys', 'api', 'client', '--name', 'a/b'],
  ['keys', 'api', 'ca', '--days', '0'],
  ['keys', 'api', 'ca', 'extra'],
  ['keys', 'fleet', 'admin', 'ops', '--out', 'k'],
  ['keys'],
  ['keys', 'root'],
  ['keys', 'generate', '--out', 'k'],
  ['keys', 'ca', '--out', 'keys'],
  ['keys', 'client'],
  ['keys', 'server', '--host', 'h'],
];

void t.test('keys argument parsing', async (t) => {
  const results = Object.fromEntries(CASES.map((argv) => [argv.join(' '), parseOrError(argv)]));
  t.matchSnapshot(results);
  t.match(parseApiKeysArgs(['ca']), { kind: 'keys-api', outDir: '.' });
  t.throws(() => parseKeysArgs(['ca']), { code: errorCode('CLI_USAGE'), message: /'berth keys ca' is now 'berth keys api ca'/ });
  t.throws(() => parseKeysArgs(['generate']), { code: errorCode('CLI_USAGE'), message: /'berth keys generate' is now 'berth keys update-signing generate'/ });
  t.throws(() => parseKeysArgs([]), { code: errorCode('CLI_USAGE'), message: /needs a family of keys: update-signing .*, api .*, fleet / });
});

void t.test('every family is in the table once, with its help in berth --help', async (t) => {
  const names = KEY_FAMILIES.map((f) => f.name);
  t.same(names, ['update-signing', 'api', 'fleet']);
  for (const family of KEY_FAMILIES) t.ok(HELP_TEXT.includes(family.help), `${family.name}'s help`);
  for (const family of KEY_FAMILIES) t.ok(family.help.includes(`berth keys ${family.name} `), `${family.name}'s help names its spelling`);
});

void t.test('berth keys api: a CA, a client and a server certificate that chain, never overwritten', async (t) => {
  const dir = t.testdir();
  const now = new Date();
  await runApiKeys(parseApiKeysArgs(['ca', '--out', dir]), now);
  const lines = await runApiKeys(parseApiKeysArgs(['client', '--out', dir, '--name', 'ops']), now);
  t.match(lines[0], /ops\.crt/);
  await runApiKeys(parseApiKeysArgs(['server', '--out', dir, '--host', 'h.example', '--host', '192.0.2.10']), now);
  const ca = new X509Certificate(await readFile(`${dir}/ca.crt`));
  const client = new X509Certificate(await readFile(`${dir}/ops.crt`));
  const server = new X509Certificate(await readFile(`${dir}/server.crt`));
  t.ok(ca.ca, 'the CA is a CA');
  t.notOk(client.ca);
  t.ok(client.checkIssued(ca) && client.verify(ca.publicKey), 'client signed by the CA');
  t.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'server signed by the CA');
  t.match(server.subjectAltName, /DNS:h\.example.*IP Address:192\.0\.2\.10/);
  t.ok(server.checkIP('192.0.2.10'));
  t.equal((await stat(`${dir}/ops.key`)).mode & 0o777, 0o600, 'keys are 0600');
  await t.rejects(runApiKeys(parseApiKeysArgs(['ca', '--out', dir]), now), { code: errorCode('KEYS_EXISTS') });
  await t.rejects(runApiKeys(parseApiKeysArgs(['client', '--out', t.testdir()]), now), { code: errorCode('KEYS_NO_CA'), message: /berth keys api ca --out/ });
});

void t.test('makeApiClientKeys: a CA and a client that chain, the CA as PEM', async (t) => {
  const dir = t.testdir();
  const keys = await makeApiClientKeys(dir, 'admin', new Date());
  t.equal(keys.cert, `${dir}/admin.crt`);
  t.equal(keys.key, `${dir}/admin.key`);
  const ca = new X509Certificate(keys.caPem);
  t.ok(new X509Certificate(await readFile(keys.cert)).verify(ca.publicKey), 'the client chains to the CA returned');
  await t.rejects(makeApiClientKeys(dir, 'admin', new Date()), { code: errorCode('KEYS_EXISTS') });
});
