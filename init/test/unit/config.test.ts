import t from 'tap';
import { createMemoryLogger, parseLogLine } from '../../../lib/log.ts';
import { PROVISIONED_RECORD, loadBootConfig, saveLastGoodConfig } from '../../src/config.ts';
import type { UrlFetchLimits } from '../../src/core/config-url.ts';
import { createFakeSys, type FakeExecHandler } from '../../src/sys/fakes.ts';
import { errorCode } from '../../../lib/errors.ts';

const CMDLINE = 'console=ttyS0 berth.slot=a berth.version=1.0.0';
const FW_CFG = '/sys/firmware/qemu_fw_cfg/by_name/opt/berth/config/raw';
const SAVED = '/var/lib/berth/config.yaml';
const DRIVE = '/run/berth/config-drive';
const LIMITS: UrlFetchLimits = { totalTimeoutMs: 10_000, attemptTimeoutMs: 2000, maxBytes: 64 };

interface Setup {
  cmdline?: string;
  files?: Record<string, string>;
  blkid?: string;
  exec?: FakeExecHandler;
  fetch?: typeof fetch;
}

function setup(options: Setup) {
  const sys = createFakeSys({
    files: { '/proc/cmdline': options.cmdline ?? CMDLINE, ...options.files },
    dirs: ['/run', '/var/lib'],
    exec:
      options.exec ??
      ((call) => {
        if (call.file.endsWith('/blkid')) return options.blkid === undefined ? { exitCode: 2 } : { stdout: options.blkid };
        return undefined;
      }),
  });
  const logger = createMemoryLogger('init');
  let earlyNetworks = 0;
  const run = () =>
    loadBootConfig({
      sys,
      logger,
      limits: LIMITS,
      startEarlyNetwork: () => {
        earlyNetworks += 1;
        return Promise.resolve();
      },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  const commands = (): string[] => sys.exec.calls.map((c) => [c.file, ...c.args].join(' '));
  const logs = (msg: string) => logger.lines.map((l) => parseLogLine(l)).filter((f) => f.msg === msg);
  return { sys, logger, run, commands, logs, earlyNetworks: () => earlyNetworks };
}

const urlCmdline = `${CMDLINE} berth.config=http://10.0.2.100/berth.yaml?token=s3cret`;

void t.test('URL: the network comes up first, failed tries are retried, the config is used and saved', async (t) => {
  const requests: string[] = [];
  let tries = 0;
  const fakeFetch = ((url: string) => {
    requests.push(url);
    tries += 1;
    if (tries === 1) return Promise.reject(new TypeError('fetch failed'));
    if (tries === 2) return Promise.resolve(new Response('starting', { status: 503, statusText: 'Service Unavailable' }));
    return Promise.resolve(new Response('hostname: from-url\n'));
  }) as typeof fetch;
  const m = setup({ cmdline: urlCmdline, fetch: fakeFetch, files: { [FW_CFG]: 'hostname: fw\n', [SAVED]: 'hostname: old\n' } });
  const choice = await m.run();
  t.equal(m.earlyNetworks(), 1);
  t.equal(requests.length, 3);
  t.equal(requests[0], 'http://10.0.2.100/berth.yaml?token=s3cret', 'the full URL is fetched');
  t.equal(choice.origin, 'url');
  t.equal(choice.source, 'http://10.0.2.100/berth.yaml?…', 'the token stays out of logs');
  t.equal(choice.config.hostname, 'from-url', 'the URL wins over fw_cfg');
  t.equal(m.sys.fs.files.get(SAVED), 'hostname: from-url\n');
  t.same(m.sys.clock.sleeps, [500, 1000]);
  t.same(m.logs('Machine config not fetched yet, retrying').map((f) => f.attempt), ['1', '2']);
  t.notOk(m.logger.lines.some((l) => l.includes('s3cret')), 'no log line carries the token');
  t.same(m.logs('Machine config loaded').map((f) => [f.origin, f.source]), [['url', 'http://10.0.2.100/berth.yaml?…']]);
  t.same(m.commands(), [], 'no drive is looked for');
});

void t.test('URL: a 404 is final, listed, and the last good config stays', async (t) => {
  let tries = 0;
  const fakeFetch = (() => {
    tries += 1;
    return Promise.resolve(new Response('no', { status: 404, statusText: 'Not Found' }));
  }) as typeof fetch;
  const m = setup({ cmdline: urlCmdline, fetch: fakeFetch, files: { [SAVED]: 'hostname: old\n' } });
  const choice = await m.run();
  t.equal(tries, 1);
  t.equal(choice.origin, 'saved');
  t.equal(choice.config.hostname, 'old');
  t.match(choice.rejected[0]?.error, { code: errorCode('INIT_CONFIG_URL_HTTP') });
  t.match(m.logs('Config problem')[0]?.problem, /^Machine config server answered HTTP 404 Not Found for http:\/\/10\.0\.2\.100\/berth\.yaml\?…/);
  t.same(m.logs('Keeping the last good machine config').length, 1);
});

void t.test('URL: a body over the cap is refused, declared or streamed', async (t) => {
  const declared = setup({ cmdline: urlCmdline, fetch: (() => Promise.resolve(new Response('x'.repeat(100)))) });
  t.match((await declared.run()).rejected[0]?.error, { code: errorCode('INIT_CONFIG_URL_TOO_BIG') });
  const streamed = setup({
    cmdline: urlCmdline,
    fetch: (() => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(16));
          controller.close();
        },
      });
      return Promise.resolve(new Response(body));
    }),
  });
  const choice = await streamed.run();
  t.equal(choice.origin, 'defaults');
  t.match(choice.rejected[0]?.error, { code: errorCode('INIT_CONFIG_URL_TOO_BIG'), message: /bigger than 64 bytes \(80 bytes so far\)/ });
});

void t.test('URL: unreachable for the whole time limit ends in a timeout naming the tries', async (t) => {
  let tries = 0;
  const fakeFetch = (() => {
    tries += 1;
    return Promise.reject(new TypeError('fetch failed'));
  }) as typeof fetch;
  const m = setup({ cmdline: urlCmdline, fetch: fakeFetch, files: { [SAVED]: 'hostname: old\n' } });
  const choice = await m.run();
  t.equal(choice.origin, 'saved');
  t.match(choice.rejected[0]?.error, { code: errorCode('INIT_CONFIG_URL_TIMEOUT'), message: new RegExp(`within 10 s \\(${tries} tries; last: fetch failed\\)`) });
  t.ok(m.sys.clock.nowMs < LIMITS.totalTimeoutMs, 'gives up within the limit');
});

void t.test('config drive: found by label, mounted read-only, berth.yaml read, unmounted', async (t) => {
  const m = setup({
    blkid: 'DEVNAME=/dev/vda4\nLABEL=berth-data\nTYPE=ext4\n\nDEVNAME=/dev/vdb\nLABEL=CIDATA\nTYPE=vfat\n',
    files: { [`${DRIVE}/berth.yaml`]: 'hostname: from-drive\n', [`${DRIVE}/user-data`]: '#cloud-config\n', [SAVED]: 'hostname: old\n' },
  });
  const choice = await m.run();
  t.equal(choice.origin, 'config-drive');
  t.equal(choice.source, '/dev/vdb:berth.yaml');
  t.equal(choice.config.hostname, 'from-drive');
  t.same(m.commands(), [
    '/usr/sbin/modprobe sr_mod',
    '/usr/sbin/blkid -c /dev/null -o export',
    '/usr/sbin/modprobe -a vfat nls_cp437 nls_ascii',
    '/usr/bin/mount -t vfat -o ro,nosuid,nodev,noexec /dev/vdb /run/berth/config-drive',
    '/usr/bin/umount /run/berth/config-drive',
  ]);
  t.equal(m.sys.fs.files.get(SAVED), 'hostname: from-drive\n');
  t.notOk(m.sys.fs.ops.some((op) => op.includes(DRIVE) && !op.startsWith('mkdir')), 'nothing on the drive is written');
});

void t.test('config drive: a berth user-data on iso9660 is used; a #cloud-config is refused', async (t) => {
  const blkid = 'DEVNAME=/dev/sr0\nLABEL=cidata\nTYPE=iso9660\n';
  const good = setup({ blkid, files: { [`${DRIVE}/user-data`]: '#berth-config\nhostname: nocloud\n', [`${DRIVE}/meta-data`]: 'instance-id: x\n' } });
  const choice = await good.run();
  t.same([choice.origin, choice.source, choice.config.hostname], ['config-drive', '/dev/sr0:user-data', 'nocloud']);
  t.ok(good.commands().includes('/usr/sbin/modprobe -a isofs nls_utf8'));
  t.ok(good.commands().includes('/usr/bin/mount -t iso9660 -o ro,nosuid,nodev,noexec /dev/sr0 /run/berth/config-drive'));

  const cloud = setup({ blkid, files: { [`${DRIVE}/user-data`]: '#cloud-config\nusers: []\n', [SAVED]: 'hostname: old\n' } });
  const refused = await cloud.run();
  t.equal(refused.origin, 'saved');
  t.match(cloud.logs('Config problem')[0]?.problem, /^Refusing \/dev\/sr0:user-data: it is a cloud-init #cloud-config, and berth does not run cloud-init/);
  t.ok(cloud.commands().includes('/usr/bin/umount /run/berth/config-drive'), 'unmounted after a refusal too');

  const empty = setup({ blkid, files: { [`${DRIVE}/meta-data`]: 'instance-id: x\n' } });
  t.match((await empty.run()).rejected[0]?.problems[0], /holds neither berth\.yaml nor user-data/);
});

void t.test('config drive: a mount failure is listed and the last good config stays', async (t) => {
  const m = setup({
    files: { [SAVED]: 'hostname: old\n' },
    exec: (call) => {
      if (call.file.endsWith('/blkid')) return { stdout: 'DEVNAME=/dev/vdb\nLABEL=CIDATA\nTYPE=vfat\n' };
      if (call.file.endsWith('/mount')) return Object.assign(new Error('mount: wrong fs type'), { code: errorCode('EXEC_EXIT_NONZERO') });
      return undefined;
    },
  });
  const choice = await m.run();
  t.equal(choice.origin, 'saved');
  t.match(choice.rejected[0], { origin: 'config-drive', source: '/dev/vdb', error: { code: errorCode('INIT_MOUNT_FAILED') } });
});

void t.test('fw_cfg comes before a config drive, which is then not even looked for', async (t) => {
  const m = setup({ blkid: 'DEVNAME=/dev/vdb\nLABEL=CIDATA\nTYPE=vfat\n', files: { [FW_CFG]: 'hostname: fw\n', [`${DRIVE}/berth.yaml`]: 'hostname: drive\n' } });
  const choice = await m.run();
  t.same([choice.origin, choice.config.hostname], ['fw_cfg', 'fw']);
  t.same(m.commands(), []);
  t.equal(m.earlyNetworks(), 0, 'no network before the config when no URL is named');
});

void t.test('fw_cfg handing over the same text at the next boot keeps a config applied since; an edited text is taken over', async (t) => {
  const m = setup({ files: { [FW_CFG]: 'hostname: fw\n' } });
  t.same([(await m.run()).origin, m.sys.fs.files.get(SAVED)], ['fw_cfg', 'hostname: fw\n']);
  t.match(m.sys.fs.files.get(PROVISIONED_RECORD), /^sha256:[0-9a-f]{64}\n$/, 'the taken over text is recorded');
  // What the API's config apply does: a new last good copy.
  m.sys.fs.files.set(SAVED, 'hostname: applied\n');
  const again = await m.run();
  t.same([again.origin, again.config.hostname], ['saved', 'applied']);
  t.equal(m.logs('Config source unchanged since taken over, keeping the last good config')[0]?.origin, 'fw_cfg');
  m.sys.fs.files.set(FW_CFG, 'hostname: fw2\n');
  const edited = await m.run();
  t.same([edited.origin, edited.config.hostname, m.sys.fs.files.get(SAVED)], ['fw_cfg', 'fw2', 'hostname: fw2\n']);
});

void t.test('berth.config=fw_cfg: drives are not looked at; without the item the last good config stays', async (t) => {
  const m = setup({ cmdline: `${CMDLINE} berth.config=fw_cfg`, blkid: 'DEVNAME=/dev/vdb\nLABEL=CIDATA\nTYPE=vfat\n', files: { [`${DRIVE}/berth.yaml`]: 'hostname: drive\n', [SAVED]: 'hostname: old\n' } });
  const choice = await m.run();
  t.same([choice.origin, choice.config.hostname], ['saved', 'old']);
  t.same(m.commands(), []);
  t.match(m.logs('Config problem')[0]?.problem, /^berth\.config=fw_cfg: this machine has no fw_cfg item/);
});

void t.test('nothing present: the saved copy; no drive and no blkid answer is not an error', async (t) => {
  const m = setup({ files: { [SAVED]: 'hostname: old\n' } });
  const choice = await m.run();
  t.same([choice.origin, choice.rejected], ['saved', []]);
  t.same(m.logs('Machine config loaded').map((f) => f.origin), ['saved']);
});

void t.test('saveLastGoodConfig writes crash-safely and reports a failure instead of throwing', async (t) => {
  const m = setup({});
  t.equal(await saveLastGoodConfig(m.sys.fs, m.logger, 'hostname: x\n'), true);
  t.equal(m.sys.fs.files.get(SAVED), 'hostname: x\n');
  t.ok(m.sys.fs.ops.includes(`write-atomic ${SAVED}`));
  m.sys.fs.writeAtomic = () => Promise.reject(new Error('ENOSPC'));
  t.equal(await saveLastGoodConfig(m.sys.fs, m.logger, 'hostname: y\n'), false);
  t.same(m.logs('Cannot save machine config').map((f) => f.error), ['ENOSPC']);
});
