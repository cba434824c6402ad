import t from 'tap';
import { parseMountInfo } from '../../../src/core/mountinfo.ts';
import { planShutdown, powerActionFor, unmountOrder } from '../../../src/core/shutdown-plan.ts';

const MOUNTED = parseMountInfo(
  [
    '22 1 253:0 / / ro - erofs /dev/mapper/root ro',
    '23 22 0:21 / /proc rw - proc proc rw',
    '24 22 0:22 / /sys rw - sysfs sysfs rw',
    '25 24 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
    '30 22 254:4 / /var rw - ext4 /dev/vda4 rw',
    '31 22 0:40 / /etc rw - overlay overlay rw',
    '32 22 254:1 / /efi rw - vfat /dev/vda1 rw',
    '33 30 0:41 / /var/lib/berth/containers/web/rootfs rw - overlay overlay rw',
    '34 22 0:42 / /run rw - tmpfs tmpfs rw',
  ].join('\n'),
);

void t.test('power-off plan on a fully booted machine', (t) => {
  t.matchSnapshot(planShutdown({ action: 'poweroff', mounted: MOUNTED, graceMs: 10_000 }), 'plan');
  t.end();
});

void t.test('unmount order: /etc first (its upper layer is on /var), then /var newest first, then /efi', (t) => {
  t.same(unmountOrder(MOUNTED), ['/etc', '/var/lib/berth/containers/web/rootfs', '/var', '/efi']);
  t.end();
});

void t.test('a machine that failed before /var still gets a clean plan', (t) => {
  const plan = planShutdown({ action: 'reboot', mounted: MOUNTED.slice(0, 4), graceMs: 5 });
  t.same(
    plan.map((s) => s.kind),
    ['stop-debug-shell', 'stop-services', 'stop-daemons', 'close-logs', 'sync', 'log-complete', 'power'],
  );
  t.same(plan.at(-1), { kind: 'power', action: 'reboot' });
  t.end();
});

void t.test('triggers map to power actions', (t) => {
  t.equal(powerActionFor('SIGTERM'), 'poweroff');
  t.equal(powerActionFor('SIGPWR'), 'poweroff');
  t.equal(powerActionFor('power-button'), 'poweroff');
  t.equal(powerActionFor('SIGUSR1'), 'poweroff', 'busybox halt');
  t.equal(powerActionFor('SIGUSR2'), 'poweroff', 'busybox poweroff');
  t.equal(powerActionFor('SIGINT'), 'reboot');
  t.equal(powerActionFor('boot-failed'), 'reboot');
  t.equal(powerActionFor('unexpected-error'), 'reboot');
  t.equal(powerActionFor('unhealthy'), 'reboot');
  t.end();
});
