import t from 'tap';
import { BerthError, errorCode } from '../../../../lib/errors.ts';
import {
  chooseMachineConfig,
  configSourceOrder,
  parseConfigCmdline,
  provisionedDigest,
  urlForLog,
  type ConfigCmdline,
  type ConfigInputs,
  type ConfigSourceKind,
  type SourceReading,
} from '../../../src/core/config-source.ts';
import { loadMachineConfig } from '../../../../lib/config/machine-config.ts';

const SAVED = '/var/lib/berth/config.yaml';
const GOOD = 'hostname: web1\n';
const OLD = 'hostname: old\n';
const BAD = 'hostname: web1\nhostnme: typo\n';
const NONE: ConfigCmdline = { kind: 'none' };
const BASE = 'console=ttyS0 berth.slot=a berth.version=1.0.0';

const choose = (inputs: Omit<ConfigInputs, 'savedSource'>) => chooseMachineConfig({ ...inputs, savedSource: SAVED }, loadMachineConfig);
const fwCfg = (text: string): SourceReading => ({ origin: 'fw_cfg', source: 'fw_cfg:opt/berth/config', text });

void t.test('berth.config= on the kernel command line', (t) => {
  t.same(parseConfigCmdline(BASE), { kind: 'none' });
  t.same(parseConfigCmdline(`${BASE} berth.config=fw_cfg`), { kind: 'fw_cfg' });
  t.same(parseConfigCmdline(`${BASE} berth.config=http://10.0.2.100/berth.yaml`), { kind: 'url', url: 'http://10.0.2.100/berth.yaml' });
  t.same(parseConfigCmdline(`berth.config="https://cfg.example/m/web1.yaml?token=abc" ${BASE}`), { kind: 'url', url: 'https://cfg.example/m/web1.yaml?token=abc' });
  for (const value of ['', 'fwcfg', 'ftp://host/x.yaml', 'file:///etc/berth.yaml', '/etc/berth.yaml', 'http//host']) {
    const parsed = parseConfigCmdline(`${BASE} berth.config=${value}`);
    t.equal(parsed.kind, 'invalid', `berth.config=${value} is refused`);
    if (parsed.kind === 'invalid') t.match(parsed.problem, /^berth\.config=.*: .*expected an http:\/\/ or https:\/\/ URL, or fw_cfg/);
  }
  t.end();
});

void t.test('the order: an explicit source alone; otherwise fw_cfg before the config drive', (t) => {
  const order = (cmdline: string): ConfigSourceKind[] => configSourceOrder(parseConfigCmdline(cmdline));
  t.same(order(BASE), ['fw_cfg', 'config-drive']);
  t.same(order(`${BASE} berth.config=fw_cfg`), ['fw_cfg']);
  t.same(order(`${BASE} berth.config=https://h/c.yaml`), ['url']);
  t.same(order(`${BASE} berth.config=bogus`), [], 'a typo in an explicit source hands the machine to no other source');
  t.end();
});

void t.test('URLs in logs lose their query and user info', (t) => {
  t.equal(urlForLog('http://10.0.2.100/berth.yaml'), 'http://10.0.2.100/berth.yaml');
  t.equal(urlForLog('https://u:p@cfg.example/m.yaml?token=secret'), 'https://cfg.example/m.yaml?…');
  t.end();
});

void t.test('a valid chosen source wins over the saved copy and becomes the new one', (t) => {
  for (const origin of ['url', 'fw_cfg', 'config-drive'] as const) {
    const choice = choose({ cmdline: NONE, chosen: { origin, source: `src-${origin}`, text: GOOD }, saved: OLD });
    t.equal(choice.origin, origin);
    t.equal(choice.source, `src-${origin}`);
    t.has(choice.config, { hostname: 'web1' });
    t.equal(choice.save, GOOD, `${origin}: saved as the last good copy`);
    t.same(choice.rejected, []);
  }
  t.end();
});

void t.test('an unchanged chosen config is not rewritten', (t) => {
  const choice = choose({ cmdline: NONE, chosen: fwCfg(GOOD), saved: GOOD });
  t.equal(choice.origin, 'fw_cfg');
  t.equal(choice.save, undefined);
  t.end();
});

void t.test('an invalid chosen config: every problem with line and path, the last good copy stays', (t) => {
  const choice = choose({ cmdline: NONE, chosen: fwCfg(`${BAD}debug: 3\n`), saved: OLD });
  t.equal(choice.origin, 'saved');
  t.equal(choice.source, SAVED);
  t.has(choice.config, { hostname: 'old' });
  t.equal(choice.save, undefined, 'the last good copy is not replaced');
  t.equal(choice.rejected.length, 1);
  t.equal(choice.rejected[0]?.origin, 'fw_cfg');
  t.match(choice.rejected[0]?.error, { code: errorCode('CONFIG_INVALID') });
  t.equal(choice.rejected[0]?.problems.length, 2, 'both problems are listed');
  t.match(choice.rejected[0]?.problems[0], /^fw_cfg:opt\/berth\/config:2:1: hostnme: /, 'source, line, column and key path');
  t.match(choice.rejected[0]?.problems[1], /^fw_cfg:opt\/berth\/config:3:\d+: debug: /);
  t.end();
});

void t.test('a chosen source that cannot be read: its error is listed, the last good copy stays', (t) => {
  const cases: Array<[string, SourceReading]> = [
    ['url timeout', { origin: 'url', source: 'http://h/c', error: new BerthError('INIT_CONFIG_URL_TIMEOUT', 'Machine config not fetched from http://h/c within 60 s') }],
    ['url 404', { origin: 'url', source: 'http://h/c', error: new BerthError('INIT_CONFIG_URL_HTTP', 'Machine config server answered HTTP 404 Not Found for http://h/c') }],
    ['drive cloud-config', { origin: 'config-drive', source: '/dev/sr0:user-data', error: new BerthError('INIT_CONFIG_DRIVE_NOT_BERTH', 'Refusing /dev/sr0:user-data: it is a cloud-init #cloud-config') }],
    ['fw_cfg unreadable', { origin: 'fw_cfg', source: 'fw_cfg:opt/berth/config', error: new Error('EIO: i/o error') }],
  ];
  for (const [name, chosen] of cases) {
    const choice = choose({ cmdline: NONE, chosen, saved: OLD });
    t.equal(choice.origin, 'saved', name);
    t.has(choice.config, { hostname: 'old' });
    t.same(choice.rejected.map((r) => [r.origin, r.source]), [[chosen.origin, chosen.source]]);
    t.equal(choice.rejected[0]?.problems.length, 1);
    t.equal(choice.rejected[0]?.problems[0], (chosen as { error: Error }).error.message, `${name}: the message is the problem line`);
  }
  t.end();
});

void t.test('chosen source and saved copy both bad, or no saved copy: the defaults, every refusal listed', (t) => {
  const bothBad = choose({ cmdline: NONE, chosen: fwCfg(BAD), saved: 'debug: [1]' });
  t.equal(bothBad.origin, 'defaults');
  t.has(bothBad.config, { hostname: 'berth' });
  t.same(bothBad.rejected.map((r) => r.origin), ['fw_cfg', 'saved']);
  t.equal(bothBad.save, undefined);

  const noSaved = choose({ cmdline: NONE, chosen: { origin: 'url', source: 'u', error: new Error('down') } });
  t.equal(noSaved.origin, 'defaults');
  t.same(noSaved.rejected.map((r) => r.origin), ['url']);
  t.end();
});

void t.test('no source present: the saved copy, else defaults; a bad saved copy is refused', (t) => {
  t.equal(choose({ cmdline: NONE, saved: OLD }).origin, 'saved');
  t.same(choose({ cmdline: NONE, saved: OLD }).rejected, [], 'nothing to complain about');
  t.equal(choose({ cmdline: NONE }).origin, 'defaults');
  const bad = choose({ cmdline: NONE, saved: BAD });
  t.equal(bad.origin, 'defaults');
  t.same(bad.rejected.map((r) => [r.origin, r.source]), [['saved', SAVED]]);
  t.end();
});

void t.test('berth.config=fw_cfg without the item is a refusal, not a silent fallback', (t) => {
  const choice = choose({ cmdline: { kind: 'fw_cfg' }, saved: OLD });
  t.equal(choice.origin, 'saved');
  t.same(choice.rejected.map((r) => r.origin), ['fw_cfg']);
  t.match(choice.rejected[0]?.problems[0], /^berth\.config=fw_cfg: this machine has no fw_cfg item opt\/berth\/config/);
  t.equal(choose({ cmdline: { kind: 'fw_cfg' }, chosen: fwCfg(GOOD) }).origin, 'fw_cfg', 'present: used');
  t.end();
});

void t.test('an invalid berth.config= is listed and the last good copy stays', (t) => {
  const cmdline = parseConfigCmdline(`${BASE} berth.config=ftp://h/c.yaml`);
  const choice = choose({ cmdline, saved: OLD });
  t.equal(choice.origin, 'saved');
  t.same(choice.rejected.map((r) => [r.origin, r.source]), [['cmdline', 'kernel command line']]);
  t.match(choice.rejected[0]?.problems[0], /^berth\.config=ftp:\/\/h\/c\.yaml: scheme ftp: is not supported/);
  t.equal(choose({ cmdline }).origin, 'defaults');
  t.end();
});

void t.test('an empty text is a valid, empty config', (t) => {
  const choice = choose({ cmdline: NONE, chosen: { origin: 'config-drive', source: '/dev/vdb:berth.yaml', text: '' }, saved: OLD });
  t.equal(choice.origin, 'config-drive');
  t.has(choice.config, { hostname: 'berth' });
  t.end();
});

void t.test('warnings are passed through', (t) => {
  const choice = choose({ cmdline: NONE, chosen: fwCfg('debug:\n  shell: ttyS1\n') });
  t.equal(choice.warnings.length, 1);
  t.match(choice.warnings[0], /^fw_cfg:opt\/berth\/config:2:10: debug\.shell: /);
  t.end();
});

void t.test('a source handing over the text it was taken over from keeps the last good copy (changes applied since stay)', (t) => {
  const APPLIED = 'hostname: applied-through-the-api\n';
  const first = choose({ cmdline: NONE, chosen: fwCfg(GOOD) });
  t.equal(first.origin, 'fw_cfg');
  t.equal(first.save, GOOD);
  t.equal(first.provisioned, provisionedDigest(GOOD), 'a new source text is recorded as taken over');

  const again = choose({ cmdline: NONE, chosen: fwCfg(GOOD), saved: APPLIED, lastProvisioned: provisionedDigest(GOOD) });
  t.equal(again.origin, 'saved');
  t.equal(again.config.hostname, 'applied-through-the-api', 'the change applied since is in force');
  t.same(again.sourceUnchanged, { origin: 'fw_cfg', source: 'fw_cfg:opt/berth/config' });
  t.equal(again.save, undefined, 'nothing to save');
  t.equal(again.provisioned, undefined, 'nothing new to record');
  t.same(again.rejected, []);

  const edited = choose({ cmdline: NONE, chosen: fwCfg(OLD), saved: APPLIED, lastProvisioned: provisionedDigest(GOOD) });
  t.equal(edited.origin, 'fw_cfg', 'an edited source text is taken over again');
  t.equal(edited.config.hostname, 'old');
  t.equal(edited.save, OLD);
  t.equal(edited.provisioned, provisionedDigest(OLD));

  const brokenCopy = choose({ cmdline: NONE, chosen: fwCfg(GOOD), saved: BAD, lastProvisioned: provisionedDigest(GOOD) });
  t.equal(brokenCopy.origin, 'fw_cfg', 'an unreadable last good copy gives way to the unchanged source text');
  t.equal(brokenCopy.save, GOOD);
  t.equal(brokenCopy.rejected.length, 1, 'the broken copy is reported once');
  t.equal(brokenCopy.rejected[0]?.origin, 'saved');

  const noCopy = choose({ cmdline: NONE, chosen: fwCfg(GOOD), lastProvisioned: provisionedDigest(GOOD) });
  t.equal(noCopy.origin, 'fw_cfg', 'a lost last good copy is written again from the source');
  t.equal(noCopy.save, GOOD);
  t.end();
});
