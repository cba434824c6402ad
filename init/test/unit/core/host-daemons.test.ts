import t from 'tap';
import { renderBanner } from '../../../src/core/banner.ts';
import { chronydArgv, lookupUser, renderChronyConfig } from '../../../src/core/chrony.ts';
import { dhcpcdArgv, renderDhcpcdConfig } from '../../../src/core/dhcpcd.ts';
import { planSysctls, planTimeZone, sysctlPath } from '../../../src/core/host-settings.ts';
import { attemptAfterRun, backoffDelayMs } from '../../../../lib/retry.ts';
import { RESTART_POLICY } from '../../../src/core/restart-policy.ts';
import { errorCode } from '../../../../lib/errors.ts';

void t.test('dhcpcd: config text and argv', (t) => {
  t.matchSnapshot(renderDhcpcdConfig({ interfaces: ['eth0', 'eth1'], isResolvConfStatic: false }), 'dhcpcd.conf, DNS from DHCP');
  const staticDns = renderDhcpcdConfig({ interfaces: ['eth0'], isResolvConfStatic: true });
  t.match(staticDns, /^nohook resolv\.conf$/m, 'resolv.conf left to init when the config names DNS servers');
  t.match(staticDns, /^allowinterfaces eth0$/m);
  t.matchSnapshot(dhcpcdArgv(), 'dhcpcd argv');
  t.end();
});

void t.test('chrony: config text, argv and its user', (t) => {
  t.matchSnapshot(renderChronyConfig(['pool.ntp.org', '192.0.2.1']), 'chrony.conf');
  t.matchSnapshot(chronydArgv(), 'chronyd argv');
  t.same(lookupUser('root:x:0:0:root:/root:/bin/sh\n_chrony:x:100:101:Chrony daemon:/var/lib/chrony:/usr/sbin/nologin\n', '_chrony'), { uid: 100, gid: 101 });
  t.equal(lookupUser('root:x:0:0::/root:/bin/sh\n', '_chrony'), undefined);
  t.end();
});

void t.test('sysctls map to /proc/sys paths; unsafe names are refused', (t) => {
  t.equal(sysctlPath('net.ipv4.ip_forward'), '/proc/sys/net/ipv4/ip_forward');
  t.equal(sysctlPath('net.ipv4.conf.eth0.rp_filter'), '/proc/sys/net/ipv4/conf/eth0/rp_filter');
  t.same(planSysctls({ 'vm.swappiness': '10', 'kernel.pid_max': '65536' }), [
    { key: 'vm.swappiness', path: '/proc/sys/vm/swappiness', value: '10' },
    { key: 'kernel.pid_max', path: '/proc/sys/kernel/pid_max', value: '65536' },
  ]);
  for (const bad of ['../etc/passwd', 'net..x', 'a/b', '']) t.throws(() => sysctlPath(bad), { code: errorCode('CONFIG_INVALID') }, bad);
  t.end();
});

void t.test('time zone: /etc/localtime link and /etc/timezone', (t) => {
  t.same(planTimeZone('Europe/Berlin'), {
    link: '/etc/localtime',
    target: '/usr/share/zoneinfo/Europe/Berlin',
    timezoneFile: 'Europe/Berlin\n',
    zoneFile: '/usr/share/zoneinfo/Europe/Berlin',
  });
  t.throws(() => planTimeZone('../../etc/shadow'), { code: errorCode('CONFIG_INVALID') });
  t.end();
});

void t.test('daemon restarts back off from 1 s to 60 s and start over after a stable run', (t) => {
  // As supervisor.ts drives it: the attempt count carried across exits, reset by a long run.
  const restartAfter = (attempt: number, ranForMs: number): number => backoffDelayMs(RESTART_POLICY, attemptAfterRun(RESTART_POLICY, attempt, ranForMs));
  t.equal(restartAfter(0, 10), 1000);
  const seen = Array.from({ length: 8 }, (_, attempt) => restartAfter(attempt, 100));
  t.same(seen, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  t.equal(restartAfter(7, 29_999), 60_000, 'a run just short of 30 s is not healthy');
  t.equal(restartAfter(7, 30_000), 1000, 'a run of 30 s starts over');
  t.end();
});

void t.test('status banner', (t) => {
  const base = {
    version: '1.2.0',
    slot: 'b',
    hostname: 'web-1',
    timeZone: 'Europe/Berlin',
    interfaces: ['eth0', 'eth1'],
    addresses: [
      { interface: 'eth0', family: 6 as const, address: 'fec0::5054:ff:fe12:3456/64' },
      { interface: 'eth0', family: 4 as const, address: '10.0.2.15/24' },
    ],
    ntpServers: ['pool.ntp.org'],
  };
  t.matchSnapshot(
    renderBanner({
      ...base,
      containers: [
        { name: 'web', state: 'running', health: 'healthy' },
        { name: 'worker', state: 'restarting' },
      ],
    }).join('\n'),
    'with containers',
  );
  t.matchSnapshot(renderBanner({ ...base, containers: undefined }).join('\n'), 'without a runtime');
  const bare = renderBanner({ ...base, interfaces: [], addresses: [], ntpServers: [], containers: [] });
  t.ok(bare.includes('  no network interfaces configured'));
  t.ok(bare.some((l) => /^ {2}time\s+Europe\/Berlin, no NTP servers configured$/.test(l)));
  t.ok(bare.some((l) => /^ {2}containers\s+none$/.test(l)));
  t.ok(bare.every((l) => /^[\x20-\x7e]*$/.test(l)), 'plain ASCII');
  t.end();
});
