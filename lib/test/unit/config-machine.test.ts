import t from 'tap';
import { isBerthError } from '../../errors.ts';
import { loadMachineConfig, type MachineConfig } from '../../config/machine-config.ts';
import { machineConfigErrorOf as problemsOf } from './config-errors.ts';

void t.test('an empty file, a comment-only file and {} are valid: all defaults', (t) => {
  const defaults: MachineConfig = {
    hostname: 'berth',
    network: { dns: { servers: [], search: [] } },
    ntp: { servers: [] },
    time_zone: 'UTC',
    sysctls: {},
    kernel_modules: [],
    debug: {},
    containers: {},
    registries: {},
    container_network: { subnet: '10.88.0.0/16', bridge: 'berth0' },
    storage: {},
    api: { listen: [] },
  };
  for (const text of ['', '# nothing yet\n', '{}', '---\n']) {
    const { config, warnings } = loadMachineConfig(text, 'config.yaml');
    t.same(config, defaults, JSON.stringify(text));
    t.same(warnings, []);
  }
  t.end();
});

void t.test('hostname and debug.shell are read', (t) => {
  const { config, warnings } = loadMachineConfig('hostname: web-1.example.com\ndebug:\n  shell: ttyS1\n', 'config.yaml');
  t.equal(config.hostname, 'web-1.example.com');
  t.equal(config.debug.shell, 'ttyS1');
  t.equal(warnings.length, 1, 'the debug shell is warned about');
  t.match(warnings[0], { path: 'debug.shell', line: 3, column: 10 });
  t.equal(loadMachineConfig('debug: {shell: hvc0}', 'c').config.debug.shell, 'hvc0');
  t.same(loadMachineConfig('debug:\n', 'c').config.debug, {}, 'an empty debug section is empty');
  t.end();
});

void t.test('every problem is reported at once, in source order', (t) => {
  const error = problemsOf('hostname: -bad-\ndebugg: true\ndebug:\n  shell: /dev/ttyS1\n  verbose: yes\n');
  t.ok(isBerthError(error, 'CONFIG_INVALID'));
  t.same(
    error.problems.map((p) => [p.path, p.line, p.column]),
    [
      ['hostname', 1, 11],
      ['debugg', 2, 1],
      ['debug.shell', 4, 10],
      ['debug.verbose', 5, 3],
    ],
  );
  t.matchSnapshot(error.message, 'message');
  t.end();
});

void t.test('top-level x- keys are accepted (for YAML anchors) and dropped', (t) => {
  const { config } = loadMachineConfig('x-names: &n web\nhostname: *n\n', 'c');
  t.equal(config.hostname, 'web');
  t.notOk('x-names' in config, 'the x- key is dropped');
  t.end();
});

void t.test('hostname follows RFC 1123 and the kernel limit', (t) => {
  for (const good of ['a', 'berth', 'node-01', 'A1.b2.c3', 'x'.repeat(63)]) {
    t.equal(loadMachineConfig(`hostname: ${good}`, 'c').config.hostname, good, good);
  }
  for (const bad of ['-a', 'a-', 'a_b', 'a..b', 'a.', 'x'.repeat(64) + '.b', 'a b', '""', '42']) {
    t.equal(problemsOf(`hostname: ${bad}`).problems[0]?.path, 'hostname', bad);
  }
  t.end();
});

void t.test('syntax errors name source, line and column', (t) => {
  const error = problemsOf('hostname: a\ndebug: {shell: ttyS1\n');
  t.equal(error.code, 'CONFIG_INVALID');
  t.match(error.message, /^Invalid configuration config\.yaml \(1 problem\):\nconfig\.yaml:3:1: invalid YAML: /);
  t.end();
});

void t.test('a document that is not a mapping is refused at 1:1', (t) => {
  for (const text of ['- a\n', 'hello\n', '[]\n']) {
    const error = problemsOf(text);
    t.match(error.problems, [{ path: '', line: 1, column: 1, message: /^expected a mapping but got / }], text);
  }
  t.end();
});
