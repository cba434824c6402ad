import t from 'tap';
import { ConfigError } from '../../../../lib/config/problems.ts';
import { describeCheck, parseVmTestSpec } from '../../../src/vm/spec.ts';
import { errorCode } from '../../../../lib/errors.ts';

const GOOD = `vms:
  web:
    image: ../out/qemu-containers
    config: web.yaml
    forwards: ["0:8080", "9000:53/udp"]
    memory: 1G
    drives: [{ file: seed.iso, kind: cdrom }]
checks:
  - ready: web
  - containers: { running: [web], healthy: [web] }
  - http: { port: 8080, body: hello }
  - exec:
      container: web
      command: [cat, /etc/hostname]
      stdout: demo
  - reboot: web
`;

await t.test('a good spec: paths resolved against its directory, defaults filled, each check with its line', async (t) => {
  const spec = parseVmTestSpec(GOOD, 'test.yaml', '/work/examples');
  t.same(spec.vms, [
    {
      name: 'web',
      image: '/work/out/qemu-containers',
      config: '/work/examples/web.yaml',
      forwards: [
        { protocol: 'tcp', hostPort: 0, guestPort: 8080 },
        { protocol: 'udp', hostPort: 9000, guestPort: 53 },
      ],
      memoryMiB: 1024,
      drives: [{ file: '/work/examples/seed.iso', kind: 'cdrom' }],
    },
  ]);
  t.same(
    spec.checks.map((c) => [c.kind, c.vm, c.line]),
    [
      ['ready', 'web', 9],
      ['containers', 'web', 10],
      ['http', 'web', 11],
      ['exec', 'web', 12],
      ['reboot', 'web', 16],
    ],
  );
  t.match(spec.checks[2], { kind: 'http', port: 8080, path: '/', status: 200, body: 'hello', timeoutMs: 60_000 });
  t.match(spec.checks[3], { kind: 'exec', container: 'web', command: ['cat', '/etc/hostname'], exitCode: 0, stdout: 'demo' });
  t.equal(describeCheck(spec.checks[2]!), 'web: http GET guest port 8080/ answers 200 with "hello"');
});

/** The problems of a bad spec, one per line, as the error prints them. */
function problemsOf(text: string): string[] {
  try {
    parseVmTestSpec(text, 'bad.yaml', '/x');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n').slice(1);
    throw error;
  }
  throw new Error('the spec was accepted');
}

await t.test('a bad spec: every problem at once, each naming the field and its line', async (t) => {
  const problems = problemsOf(`vms:
  web:
    confg: web.yaml
    forwards: ["8080"]
checks:
  - exec: { container: web }
  - ready: web
    reboot: web
  - {}
  - containers: { timeout: 1m }
`);
  t.same(problems, [
    'bad.yaml:3:5: vms.web.confg: unknown key (did you mean "config"?)',
    'bad.yaml:4:16: vms.web.forwards[0]: expected a forward "HOST:GUEST" (HOST 0: any free port), e.g. "8080:80" but got "8080"',
    'bad.yaml:6:11: checks[0].exec: missing required key "command"',
    'bad.yaml:7:5: checks[1]: a check does one thing: found ready and reboot; split it into 2 checks',
    'bad.yaml:9:5: checks[2]: a check needs one of ready, reboot, containers, http, exec',
    'bad.yaml:10:5: checks[3]: name the containers that must be running or healthy',
  ]);
});

await t.test("checks refer to the spec's VMs and their forwards (checked once the fields are valid)", async (t) => {
  t.same(problemsOf('vms:\n  web: { forwards: ["0:8080"] }\nchecks:\n  - ready: db\n  - http: { port: 80 }\n  - exec: { vm: dbb, container: x, command: [x] }\n'), [
    "bad.yaml:4:12: checks[0].ready: no VM 'db' in vms (web)",
    'bad.yaml:5:19: checks[1].http.port: guest port 80 is not forwarded: add "0:80" to vms.web.forwards',
    "bad.yaml:6:17: checks[2].exec.vm: no VM 'dbb' in vms (web)",
  ]);
});

await t.test('with several VMs a check names its VM; the spec needs VMs and checks', async (t) => {
  t.same(problemsOf('vms:\n  a: {}\n  b: {}\nchecks:\n  - http: { port: 80 }\n'), ['bad.yaml:5:11: checks[0].http: name the VM: the spec has 2 (a, b)']);
  t.same(problemsOf('vms: {}\nchecks: []\n'), ['bad.yaml:1:6: vms: a spec needs at least one VM', 'bad.yaml:2:9: checks: expected at least 1 item but got 0']);
  t.same(problemsOf('vms:\n  a: {}\nchecks:\n  - redy: a\n'), ['bad.yaml:4:5: checks[0].redy: unknown key (did you mean "ready"?)']);
});

await t.test('bad specs carry VM_SPEC_INVALID', async (t) => {
  t.throws(() => parseVmTestSpec('vms: [\n', 'bad.yaml', '/x'), { code: errorCode('VM_SPEC_INVALID') });
  t.throws(() => parseVmTestSpec('checks: [{ready: a}]\n', 'bad.yaml', '/x'), { code: errorCode('VM_SPEC_INVALID') });
});
