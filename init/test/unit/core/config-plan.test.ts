import t from 'tap';
import { isSameValue, planConfigChange, planContainers, summarizePlan } from '../../../src/core/config-plan.ts';
import { loadMachineConfig, type MachineConfig } from '../../../../lib/config/machine-config.ts';

const load = (text: string): MachineConfig => loadMachineConfig(text, 'test').config;

/** The containers of every config here: web depends on db, sidecar shares web's network. */
const CONTAINERS = `containers:
  db:
    image: postgres:16
    environment: { POSTGRES_PASSWORD: x }
  web:
    image: nginx:1
    environment: { MODE: a }
    depends_on: [db]
  sidecar:
    image: busybox
    network_mode: "container:web"
`;

const BASE = `
hostname: web-1
time_zone: UTC
sysctls: { net.ipv4.ip_forward: 1 }
kernel_modules: [br_netfilter]
ntp: { servers: [192.0.2.1] }
network: { dns: { servers: [192.0.2.53] } }
${CONTAINERS}`;

void t.test('the same config plans no change', (t) => {
  const plan = planConfigChange(load(BASE), load(BASE));
  t.equal(plan.changed, false);
  t.equal(plan.reboot_required, false);
  t.same(plan.steps, []);
  t.same(summarizePlan(plan), ['No changes']);
  t.ok(plan.containers.every((c) => c.action === 'keep'));
  t.end();
});

void t.test('x- keys and formatting do not count as changes', (t) => {
  const plan = planConfigChange(load(BASE), load(`x-note: hello\n${BASE.replace('MODE: a', 'MODE: "a"')}`));
  t.equal(plan.changed, false);
  t.end();
});

void t.test('hostname and one container environment: live, that container and its network sharer recreated', (t) => {
  const plan = planConfigChange(load(BASE), load(BASE.replace('web-1', 'web-2').replace('MODE: a', 'MODE: b')));
  t.equal(plan.reboot_required, false);
  t.same(
    plan.containers.map((c) => [c.name, c.action]),
    [
      ['db', 'keep'],
      ['web', 'recreate'],
      ['sidecar', 'recreate'],
    ],
  );
  t.same(plan.steps, [
    { kind: 'set-hostname', hostname: 'web-2' },
    { kind: 'reconcile-containers', create: [], recreate: ['web', 'sidecar'], remove: [] },
  ]);
  t.matchSnapshot(plan, 'plan');
  t.matchSnapshot(summarizePlan(plan), 'summary');
  t.end();
});

void t.test('containers created, removed and kept', (t) => {
  const next = BASE.replace(/ {2}sidecar:[\s\S]*$/, '  cache:\n    image: redis:7\n');
  const plan = planConfigChange(load(BASE), load(next));
  t.same(
    plan.containers.map((c) => [c.name, c.action]),
    [
      ['db', 'keep'],
      ['web', 'keep'],
      ['cache', 'create'],
      ['sidecar', 'remove'],
    ],
  );
  t.same(plan.steps, [{ kind: 'reconcile-containers', create: ['cache'], recreate: [], remove: ['sidecar'] }]);
  t.matchSnapshot(summarizePlan(plan), 'summary');
  t.end();
});

void t.test('host settings applied live: time zone, new sysctl and module, NTP, static DNS', (t) => {
  const next = BASE.replace('time_zone: UTC', 'time_zone: Europe/Berlin')
    .replace('net.ipv4.ip_forward: 1', 'net.ipv4.ip_forward: 1, vm.swappiness: 10')
    .replace('[br_netfilter]', '[br_netfilter, overlay]')
    .replace('servers: [192.0.2.1]', 'servers: [192.0.2.2, 192.0.2.3]')
    .replace('servers: [192.0.2.53]', 'servers: [192.0.2.54], search: [example.com]');
  const plan = planConfigChange(load(BASE), load(next));
  t.equal(plan.reboot_required, false);
  t.same(plan.sections.map((s) => [s.section, s.effect]), [
    ['network', 'live'],
    ['ntp', 'live'],
    ['time_zone', 'live'],
    ['sysctls', 'live'],
    ['kernel_modules', 'live'],
  ]);
  t.matchSnapshot(plan, 'plan');
  t.end();
});

void t.test('what needs a reboot: removed sysctl and module, interfaces, DNS to DHCP, api, debug, update, bridge', (t) => {
  const next = `
hostname: web-1
sysctls: {}
kernel_modules: []
ntp: { servers: [192.0.2.1] }
network:
  interfaces:
    eth0: { addresses: [10.0.2.15/24], gateway: 10.0.2.2 }
debug: { shell: ttyS1 }
container_network: { subnet: 10.99.0.0/16 }
update: { server: "http://127.0.0.1:8080/", strategy: manual }
${CONTAINERS}`;
  const plan = planConfigChange(load(BASE), load(next));
  t.equal(plan.reboot_required, true);
  t.same(plan.steps, [], 'nothing to do live');
  t.matchSnapshot(plan.sections, 'sections');
  t.matchSnapshot(summarizePlan(plan), 'summary');
  t.end();
});

void t.test('DNS from static servers to DHCP needs a reboot even with the same interfaces', (t) => {
  const plan = planConfigChange(load(BASE), load(BASE.replace('network: { dns: { servers: [192.0.2.53] } }', '')));
  t.same(plan.sections.map((s) => [s.section, s.effect]), [['network', 'reboot']]);
  t.match(plan.sections[0]?.reason, /DHCP/);
  t.end();
});

void t.test('a registry change reconciles the engine (new settings for later pulls) without recreating containers', (t) => {
  const plan = planConfigChange(load(BASE), load(`${BASE}registries: { "registry.example.com:5000": { insecure: true } }\n`));
  t.same(plan.steps, [{ kind: 'reconcile-containers', create: [], recreate: [], remove: [] }]);
  t.same(plan.sections.map((s) => [s.section, s.effect]), [['registries', 'live']]);
  t.end();
});

void t.test('a new disk reserve is handed to the engine live, without recreating containers', (t) => {
  const plan = planConfigChange(load(BASE), load(`${BASE}storage: { reserve: 5% }\n`));
  t.same(plan.steps, [{ kind: 'reconcile-containers', create: [], recreate: [], remove: [] }]);
  t.same(plan.sections, [{ section: 'storage', effect: 'live', changes: ['~ reserve: (none) -> {"percent":5}'] }]);
  t.end();
});

void t.test('recreation propagates along chains of shared networks', (t) => {
  const before = load('containers:\n  a: { image: x }\n  b: { image: x, network_mode: "container:a" }\n  c: { image: x, network_mode: "service:b" }\n  d: { image: x }\n');
  const after = load('containers:\n  a: { image: y }\n  b: { image: x, network_mode: "container:a" }\n  c: { image: x, network_mode: "service:b" }\n  d: { image: x }\n');
  t.same(planContainers(before.containers, after.containers), [
    { name: 'a', action: 'recreate', reasons: ['image'] },
    { name: 'b', action: 'recreate', reasons: ['shares the network of a'] },
    { name: 'c', action: 'recreate', reasons: ['shares the network of b'] },
    { name: 'd', action: 'keep', reasons: [] },
  ]);
  t.end();
});

void t.test('isSameValue compares plain data structurally, treating absent and undefined alike', (t) => {
  t.ok(isSameValue({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  t.ok(isSameValue({ a: 1, b: undefined }, { a: 1 }));
  t.notOk(isSameValue([1, 2], [2, 1]));
  t.notOk(isSameValue({ a: 1 }, { a: '1' }));
  t.notOk(isSameValue([], {}));
  t.end();
});
