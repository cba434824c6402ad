import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { apiConfigSection, ctlArgv, ctlConnection, GUEST_API_PORT, makeClientKeys } from '../../harness/api-client.ts';
import { REPO_ROOT } from '../../../vm/src/index.ts';

void t.test('client keys from berth keys, and the api: section that trusts their CA', async (t) => {
  const dir = t.testdir();
  const keys = await makeClientKeys(dir, 'admin');
  t.equal(keys.cert, path.join(dir, 'admin.crt'));
  t.equal(keys.key, path.join(dir, 'admin.key'));
  t.equal(keys.caPem, await readFile(path.join(dir, 'ca.crt'), 'utf8'));
  t.match(await readFile(keys.cert, 'utf8'), /^-----BEGIN CERTIFICATE-----/);

  const section = apiConfigSection(keys.caPem);
  t.ok(section.endsWith('\n'), 'the next section can follow directly');
  const { config } = loadMachineConfig(`hostname: h\n${section}debug:\n  shell: ttyS1\n`, 'test.yaml');
  t.same(config.api.listen, [`0.0.0.0:${GUEST_API_PORT}`]);
  t.equal(config.api.client_ca?.trim(), keys.caPem.trim(), 'the CA certificate survives the YAML block');
});

void t.test('berth ctl argv', (t) => {
  t.same(ctlConnection(4000, { cert: '/k/a.crt', key: '/k/a.key' }, 'ab'), ['--host', 'https://127.0.0.1:4000', '--cert', '/k/a.crt', '--key', '/k/a.key', '--server-sha256', 'ab']);
  t.same(ctlArgv(['status']), [path.join(REPO_ROOT, 'bin/berth.js'), 'ctl', 'status']);
  t.end();
});
