import t from 'tap';
import { parseCliArgs } from '../../../src/args.ts';
import { parseForward } from '../../../src/vm/args.ts';
import { errorCode } from '../../../../lib/errors.ts';

await t.test('berth vm run: image, config, forwards, sizes, persist, network', async (t) => {
  t.same(parseCliArgs(['vm', 'run']), { kind: 'vm-run', forwards: [] });
  t.same(
    parseCliArgs(['vm', 'run', 'out/qemu-containers', '--config', 'web.yaml', '--forward', '8080:80', '--forward', '5353:53/udp', '--memory', '1G', '--cpus', '4', '--disk-size', '8G', '--persist', 'vms/web', '--network', 'lab', '--name', 'web-1']),
    {
      kind: 'vm-run',
      target: 'out/qemu-containers',
      config: 'web.yaml',
      forwards: [
        { protocol: 'tcp', hostPort: 8080, guestPort: 80 },
        { protocol: 'udp', hostPort: 5353, guestPort: 53 },
      ],
      memoryMiB: 1024,
      cpus: 4,
      diskBytes: 8 * 1024 ** 3,
      persist: 'vms/web',
      network: 'lab',
      name: 'web-1',
    },
  );
});

await t.test('berth vm run: bad input is a usage error that says what is accepted', async (t) => {
  const usage = (argv: string[], message: RegExp) => t.throws(() => parseCliArgs(argv), { code: errorCode('CLI_USAGE'), message }, argv.join(' '));
  usage(['vm'], /berth vm needs run or test/);
  usage(['vm', 'start'], /Unknown vm command 'start': expected run or test/);
  usage(['vm', 'run', '--forward', '80'], /--forward '80': expected HOST:GUEST/);
  usage(['vm', 'run', '--forward', '0:80'], /ports 1-65535/);
  usage(['vm', 'run', '--forward', '8080:80', '--forward', '8080:81'], /host port 8080\/tcp is given twice/);
  usage(['vm', 'run', '--memory', '2048'], /--memory '2048': expected a size with a unit/);
  usage(['vm', 'run', '--memory', '100M'], /at least 256M/);
  usage(['vm', 'run', '--cpus', 'two'], /--cpus 'two'/);
  usage(['vm', 'run', '--network', 'Lab'], /--network 'Lab'/);
  usage(['vm', 'run', '--config'], /--config needs a value/);
  usage(['vm', 'run', '--forwrd', '1:2'], /Unknown option '--forwrd' for vm run: expected --config/);
  usage(['vm', 'run', 'a', 'b'], /got a second: 'b'/);
});

await t.test('berth vm test and berth config validate', async (t) => {
  t.same(parseCliArgs(['vm', 'test', 'spec.yaml']), { kind: 'vm-test', spec: 'spec.yaml', keep: false });
  t.same(parseCliArgs(['vm', 'test', '--keep', 'spec.yaml']), { kind: 'vm-test', spec: 'spec.yaml', keep: true });
  t.throws(() => parseCliArgs(['vm', 'test']), { code: errorCode('CLI_USAGE'), message: /needs a SPEC.yaml/ });
  t.same(parseCliArgs(['config', 'validate', 'host.yaml']), { kind: 'config-validate', file: 'host.yaml' });
  t.throws(() => parseCliArgs(['config', 'check', 'x']), { code: errorCode('CLI_USAGE'), message: /Unknown config command 'check'/ });
  t.throws(() => parseCliArgs(['config', 'validate']), { code: errorCode('CLI_USAGE'), message: /needs a FILE/ });
  t.same(parseForward('1:65535/udp'), { protocol: 'udp', hostPort: 1, guestPort: 65535 });
});
