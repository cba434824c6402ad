import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import { stopNetwork, type Network } from '../../src/network.ts';
import { createFakeSys } from '../../src/sys/fakes.ts';

void t.test('the early network is stopped before the configured one starts: daemons stopped, DHCP addresses flushed', async (t) => {
  const sys = createFakeSys();
  const logger = createMemoryLogger('init');
  const events: string[] = [];
  const network: Network = {
    interfaces: ['eth0', 'eth1'],
    daemons: [
      { name: 'ip-monitor', pid: 10, stop: (graceMs) => (events.push(`stop ip-monitor ${graceMs}`), Promise.resolve()) },
      { name: 'dhcpcd', pid: 11, stop: (graceMs) => (events.push(`stop dhcpcd ${graceMs}`), Promise.resolve()) },
    ],
    stop: () => void events.push('stop following'),
    addresses: () => Promise.resolve([]),
    dhcpSettled: Promise.resolve(),
  };
  await stopNetwork(sys, logger, network, 5000);
  t.same(events, ['stop following', 'stop ip-monitor 5000', 'stop dhcpcd 5000']);
  t.same(
    sys.exec.calls.map((c) => [c.file, ...c.args].join(' ')),
    ['/usr/bin/ip address flush dev eth0 scope global', '/usr/bin/ip address flush dev eth1 scope global'],
  );
  t.ok(logger.lines.some((l) => l.includes('msg="Network stopped" interfaces=eth0,eth1')));
});
