import t from 'tap';
import { chooseMachineConfig } from '../../../src/core/config-source.ts';
import { loadMachineConfig } from '../../../src/core/machine-config.ts';

const names = { fwCfg: 'fw_cfg:opt/berth/config', saved: '/var/lib/berth/config.yaml' };
const GOOD = 'hostname: web1\n';
const OLD = 'hostname: old\n';
const BAD = 'hostname: web1\nhostnme: typo\n';

void t.test('a valid fw_cfg config wins and is saved when it differs', (t) => {
  const choice = chooseMachineConfig({ fwCfg: GOOD, saved: OLD }, names, loadMachineConfig);
  t.equal(choice.origin, 'fw_cfg');
  t.has(choice.config, { hostname: 'web1', debug: {} });
  t.equal(choice.save, GOOD);
  t.same(choice.rejected, []);
  t.end();
});

void t.test('an unchanged fw_cfg config is not rewritten', (t) => {
  const choice = chooseMachineConfig({ fwCfg: GOOD, saved: GOOD }, names, loadMachineConfig);
  t.equal(choice.origin, 'fw_cfg');
  t.equal(choice.save, undefined);
  t.end();
});

void t.test('an invalid fw_cfg config is rejected with its problems and the last good copy is used', (t) => {
  const choice = chooseMachineConfig({ fwCfg: BAD, saved: OLD }, names, loadMachineConfig);
  t.equal(choice.origin, 'saved');
  t.has(choice.config, { hostname: 'old', debug: {} });
  t.equal(choice.save, undefined);
  t.equal(choice.rejected.length, 1);
  t.equal(choice.rejected[0]?.origin, 'fw_cfg');
  t.match(choice.rejected[0]?.error, { code: 'CONFIG_INVALID' });
  t.same(choice.rejected[0]?.problems.length, 1);
  t.match(choice.rejected[0]?.problems[0], /^fw_cfg:opt\/berth\/config:2:1: hostnme: /, 'the problem names source, line, column and key path');
  t.end();
});

void t.test('without any valid text the defaults are used', (t) => {
  const choice = chooseMachineConfig({ fwCfg: BAD, saved: 'debug: [1]' }, names, loadMachineConfig);
  t.equal(choice.origin, 'defaults');
  t.has(choice.config, { hostname: 'berth', debug: {} });
  t.same(choice.rejected.map((r) => r.origin), ['fw_cfg', 'saved']);
  t.end();
});

void t.test('no fw_cfg item: the saved copy, else defaults', (t) => {
  t.equal(chooseMachineConfig({ saved: OLD }, names, loadMachineConfig).origin, 'saved');
  t.equal(chooseMachineConfig({}, names, loadMachineConfig).origin, 'defaults');
  t.end();
});

void t.test('an empty fw_cfg item is a valid, empty config', (t) => {
  const choice = chooseMachineConfig({ fwCfg: '', saved: OLD }, names, loadMachineConfig);
  t.equal(choice.origin, 'fw_cfg');
  t.has(choice.config, { hostname: 'berth', debug: {} });
  t.end();
});

void t.test('warnings are passed through', (t) => {
  const choice = chooseMachineConfig({ fwCfg: 'debug:\n  shell: ttyS1\n' }, names, loadMachineConfig);
  t.equal(choice.warnings.length, 1);
  t.match(choice.warnings[0], /^fw_cfg:opt\/berth\/config:2:10: debug\.shell: /);
  t.end();
});
