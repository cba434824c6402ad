import t from 'tap';
import { apiSection, ctlCommandLine, prepareConfig } from '../../../src/vm/machine-config.ts';
import { errorCode } from '../../../../lib/errors.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

await t.test('a config without api gets one trusting the VM CA, on port 7443', async (t) => {
  const prepared = prepareConfig('hostname: web\n', 'web.yaml', CA);
  t.equal(prepared.apiPort, 7443);
  t.equal(prepared.addedApi, true);
  t.ok(prepared.text.startsWith('hostname: web\n# Added by berth vm'));
  t.ok(prepared.text.endsWith(apiSection(CA)));
  t.equal(prepareConfig('', 'empty', CA).text.startsWith('# Added by berth vm'), true);
});

await t.test("a config's own api listener is used as it is; without a CA nothing is added", async (t) => {
  const own = `api:\n  listen: ["0.0.0.0:9443"]\n  client_ca: |\n    ${CA.trimEnd().split('\n').join('\n    ')}\n`;
  t.match(prepareConfig(own, 'own.yaml', CA), { text: own, apiPort: 9443, addedApi: false });
  t.same(prepareConfig('hostname: web\n', 'web.yaml'), { text: 'hostname: web\n', addedApi: false, warnings: [] });
});

await t.test('an invalid config is refused with every problem and its line', async (t) => {
  t.throws(() => prepareConfig('hostname: Bad_Name\ncontainers:\n  web: { imag: x }\n', 'bad.yaml', CA), {
    code: errorCode('CONFIG_INVALID'),
    message: /bad\.yaml:1:11: hostname: [^\n]*\n[\s\S]*bad\.yaml:3:\d+: containers\.web[^\n]*\n[\s\S]*did you mean "image"/,
  });
});

await t.test('the berth ctl line', async (t) => {
  t.equal(ctlCommandLine(40001, 'k/admin.crt', 'k/admin.key', 'ab'.repeat(32)), `berth ctl --host https://127.0.0.1:40001 --cert k/admin.crt --key k/admin.key --server-sha256 ${'ab'.repeat(32)} status`);
});
