import t from 'tap';
import {
  unboundHostForward,
  PROCESS_FORWARD_RCVBUF_BYTES,
  buildProbeArgv,
  buildQemuArgv,
  checkForwards,
  netdevValue,
  overlayCreateArgs,
  patternWriteArgs,
  type QemuVmSpec,
} from '../../src/qemu-argv.ts';
import { errorCode } from '../../../lib/errors.ts';

const base: QemuVmSpec = {
  accel: 'tcg',
  firmwareCode: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  firmwareVars: '/work/out/qemu-tests/boot/OVMF_VARS.fd',
  disk: '/work/out/qemu-tests/boot/disk.qcow2',
  consoleLog: '/work/out/qemu-tests/boot/console.log',
  shellSocket: '/work/out/qemu-tests/boot/shell.sock',
  qmpSocket: '/work/out/qemu-tests/boot/qmp.sock',
};

/** The value following each occurrence of `flag`. */
function valuesOf(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1] ?? ''] : []));
}

await t.test('argv of a test VM', (t) => {
  const argv = buildQemuArgv({
    ...base,
    name: 'berth-test-boot',
    configFile: '/work/out/qemu-tests/boot/config.yaml',
    hostForwards: [{ protocol: 'tcp', hostPort: 8022, guestPort: 22 }],
    guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 80, hostPort: 8080 }],
  });
  t.matchSnapshot(argv, 'full argv');
  t.same(valuesOf(argv, '-accel'), ['tcg,thread=single'], 'TCG runs the vCPUs on one thread (no cross-CPU code-patching races)');
  t.same(valuesOf(argv, '-cpu'), ['max']);
  t.same(valuesOf(argv, '-m'), ['2048']);
  t.same(valuesOf(argv, '-smp'), ['2']);
  t.ok(argv.includes('-no-reboot'));
  t.ok(argv.includes('-nodefaults'));
  t.same(valuesOf(argv, '-display'), ['none']);
  t.same(valuesOf(argv, '-fw_cfg'), ['name=opt/berth/config,file=/work/out/qemu-tests/boot/config.yaml']);
  const pflash = valuesOf(argv, '-drive').filter((d) => d.startsWith('if=pflash'));
  t.match(pflash[0], /unit=0,readonly=on,file=\/usr\/share\/OVMF\/OVMF_CODE_4M\.fd$/, 'firmware code is read-only');
  t.notMatch(pflash[1], /readonly/, 'the VM copy of the variables is writable');
  t.same(valuesOf(argv, '-serial'), ['chardev:console', 'chardev:shell'], 'serial 0 is the console, serial 1 the shell');
  t.end();
});

await t.test('the network reaches nothing beyond 127.0.0.1', (t) => {
  const netdev = netdevValue({
    hostForwards: [{ protocol: 'udp', hostPort: 5353, guestPort: 53 }],
    guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 443, hostPort: 8443 }],
  });
  t.equal(netdev, 'user,id=n0,restrict=on,hostfwd=udp:127.0.0.1:5353-:53,guestfwd=tcp:10.0.2.100:443-tcp:127.0.0.1:8443');
  t.equal(netdevValue({}), 'user,id=n0,restrict=on');
  t.equal(
    netdevValue({ guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 80, hostPort: 8080, mode: 'process' }] }),
    `user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:socat STDIO TCP:127.0.0.1:8080,,rcvbuf=${PROCESS_FORWARD_RCVBUF_BYTES}`,
    "a 'process' forward: socat to 127.0.0.1 with a fixed receive buffer, its comma doubled for QEMU",
  );
  const argv = buildQemuArgv(base);
  t.same(valuesOf(argv, '-netdev'), ['user,id=n0,restrict=on']);
  t.same(valuesOf(argv, '-device').filter((d) => d.startsWith('virtio-net')), ['virtio-net-pci,netdev=n0']);
  t.equal(valuesOf(argv, '-fw_cfg').length, 0, 'no fw_cfg without a config');
  t.end();
});

await t.test('invalid forwards are refused with every problem named', (t) => {
  const spec = {
    hostForwards: [{ protocol: 'tcp' as const, hostPort: 0, guestPort: 70000 }],
    guestForwards: [{ guestAddress: '192.168.1.1', guestPort: 80, hostPort: 80 }],
  };
  t.same(checkForwards(spec), [
    'hostForwards[0].hostPort: expected a port 1-65535',
    'hostForwards[0].guestPort: expected a port 1-65535',
    'guestForwards[0].guestAddress: expected an address in 10.0.2.0/24',
  ]);
  t.throws(() => buildQemuArgv({ ...base, ...spec }), { code: errorCode('QEMU_NET_FORWARD_INVALID') });
  t.end();
});

await t.test("QEMU's error for a host port it cannot bind names the forward; other errors do not", (t) => {
  const stderr = "qemu-system-x86_64: -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:41234-:8080: Could not set up host forwarding rule 'tcp:127.0.0.1:41234-:8080'\n";
  t.same(unboundHostForward(stderr), { protocol: 'tcp', hostPort: 41234, guestPort: 8080 });
  t.same(unboundHostForward("Could not set up host forwarding rule 'udp:127.0.0.1:5353-:53'"), { protocol: 'udp', hostPort: 5353, guestPort: 53 });
  t.equal(unboundHostForward('qemu-system-x86_64: -drive if=none: Could not open disk'), undefined);
  t.end();
});

await t.test('commas in paths are escaped for QEMU option values', (t) => {
  const argv = buildQemuArgv({ ...base, disk: '/tmp/a,b/disk.qcow2', accel: 'kvm', memoryMiB: 1024, cpus: 1 });
  t.ok(valuesOf(argv, '-drive').includes('if=none,id=disk0,format=qcow2,file=/tmp/a,,b/disk.qcow2'));
  t.same(valuesOf(argv, '-accel'), ['kvm']);
  t.same(valuesOf(argv, '-m'), ['1024']);
  t.same(valuesOf(argv, '-smp'), ['1']);
  t.end();
});

await t.test('qemu-img, qemu-io and probe argv', (t) => {
  t.same(overlayCreateArgs('/work/out/qemu/disk.qcow2', '/tmp/o.qcow2', 3221225472), [
    'create', '-f', 'qcow2', '-F', 'qcow2', '-b', '/work/out/qemu/disk.qcow2', '/tmp/o.qcow2', '3221225472',
  ]);
  t.throws(() => overlayCreateArgs('out/qemu/disk.qcow2', '/tmp/o.qcow2', 1), { code: errorCode('QEMU_OVERLAY_INVALID') });
  t.same(patternWriteArgs('/tmp/o.qcow2', 1049600, 512, 0x5a), ['-f', 'qcow2', '-c', 'write -P 0x5a 1049600 512', '/tmp/o.qcow2']);
  t.same(patternWriteArgs('/tmp/o.qcow2', 0, 1, 7)[3], 'write -P 0x07 0 1');
  t.matchSnapshot(
    buildProbeArgv({ accel: 'kvm', firmwareCode: base.firmwareCode, firmwareVars: '/tmp/probe/vars.fd', consoleLog: '/tmp/probe/console.log' }),
    'accelerator probe argv',
  );
  t.end();
});

await t.test('interactive: the console on the terminal and in the log, Ctrl-A X, reboots stay in QEMU', (t) => {
  const argv = buildQemuArgv({ ...base, interactive: true });
  t.same(valuesOf(argv, '-chardev')[0], 'stdio,id=console,mux=on,signal=off,logfile=/work/out/qemu-tests/boot/console.log,logappend=on');
  t.same(valuesOf(argv, '-mon'), ['chardev=console,mode=readline', 'chardev=qmp,mode=control']);
  t.notOk(argv.includes('-no-reboot'));
  t.ok(buildQemuArgv(base).includes('-no-reboot'));
  t.end();
});

await t.test('a private network card connects to a hub on 127.0.0.1 only', (t) => {
  const argv = buildQemuArgv({ ...base, privateNics: [{ hubPort: 40000, mac: '52:54:00:0a:0b:0c' }] });
  t.same(valuesOf(argv, '-netdev'), ['user,id=n0,restrict=on', 'socket,id=p0,connect=127.0.0.1:40000']);
  t.same(valuesOf(argv, '-device').filter((d) => d.startsWith('virtio-net')), ['virtio-net-pci,netdev=n0', 'virtio-net-pci,netdev=p0,mac=52:54:00:0a:0b:0c']);
  t.same(checkForwards({ privateNics: [{ hubPort: 0, mac: '53:54:00:0a:0b:0c' }] }), [
    'privateNics[0].hubPort: expected a port 1-65535',
    'privateNics[0].mac: expected a unicast MAC address like 52:54:00:12:34:56',
  ]);
  t.throws(() => buildQemuArgv({ ...base, privateNics: [{ hubPort: 1, mac: 'x' }] }), { code: errorCode('QEMU_NET_FORWARD_INVALID') });
  t.same(overlayCreateArgs('/b/disk.raw', '/o.qcow2', 10, 'raw'), ['create', '-f', 'qcow2', '-F', 'raw', '-b', '/b/disk.raw', '/o.qcow2', '10']);
  t.end();
});
