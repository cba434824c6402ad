/**
 * Provisioning sources, one boot each, 4 boots in all. Machine 1 (the default image): a vfat
 * config drive labelled CIDATA with berth.yaml (no fw_cfg); then a SATA CD-ROM (iso9660,
 * cidata) with a NoCloud user-data that is a berth config; then fw_cfg and a config drive
 * together (fw_cfg comes first). Machine 2: a copy of the disk whose boot entries an
 * operator edited on the ESP to add `berth.config=http://10.0.2.100/berth.yaml`, served from a
 * loopback server through guestfwd, with fw_cfg and a drive attached too (the URL wins), and
 * one dhcpcd for the whole boot. Each boot checks the logged origin and the host name in force.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runVmCase } from '../harness/case.ts';
import { imageWithKernelArgs, makeIsoDrive, makeVfatDrive } from '../harness/config-drive.ts';
import { loadImage, testOutRoot, type Vm } from '../../vm/src/index.ts';
import { startStaticServer } from '../harness/static-server.ts';

const config = (hostname: string): string => `hostname: ${hostname}\ndebug:\n  shell: ttyS1\n`;
const LOADED = /msg="Machine config loaded" origin=(\S+) source=(\S+)/;

async function loaded(vm: Vm): Promise<{ origin: string; source: string }> {
  const found = await vm.waitFor(LOADED, 240_000);
  return { origin: found.match[1] ?? '', source: found.match[2] ?? '' };
}

async function hostnameOf(vm: Vm): Promise<string> {
  await vm.waitForReady();
  return (await (await vm.shell()).check('cat /proc/sys/kernel/hostname')).trim();
}

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

const image = await loadImage();
const work = join(testOutRoot(), 'provisioning-inputs');
await mkdir(work, { recursive: true });
const vfat = await makeVfatDrive(work, 'CIDATA', { 'berth.yaml': config('prov-vfat'), 'meta-data': 'instance-id: prov-1\n' });
const iso = await makeIsoDrive(work, 'cidata', { 'user-data': `#berth-config\n${config('prov-iso')}`, 'meta-data': 'instance-id: prov-2\n' });

await runVmCase(t, 'provisioning', { boots: 4, image, config: config('prov-fwcfg') }, async ({ machine }) => {
  await t.test('a vfat config drive labelled CIDATA: berth.yaml is used, the drive is left unmounted and unchanged', async (t) => {
    const before = await sha256(vfat);
    const vm = await machine.boot({ withoutConfig: true, extraDrives: [{ file: vfat, kind: 'virtio' }] });
    // The guest kernel may see the FAT boot sector as an MBR too and offer the volume as vdb1 as well.
    t.match(await loaded(vm), { origin: 'config-drive', source: /^\/dev\/vdb1?:berth\.yaml$/ });
    t.equal(await hostnameOf(vm), 'prov-vfat', 'the drive config is in force');
    const shell = await vm.shell();
    t.notMatch(await shell.check('cat /proc/mounts'), /config-drive|\/dev\/vdb/, 'the drive is unmounted after the config stage');
    t.equal((await shell.check('cat /var/lib/berth/config.yaml')).trim(), config('prov-vfat').trim(), 'kept as the last good copy');
    await vm.kill();
    t.equal(await sha256(vfat), before, 'nothing was written to the drive');
  });

  await t.test('an iso9660 CD-ROM labelled cidata with a berth NoCloud user-data is used', async (t) => {
    const vm = await machine.boot({ withoutConfig: true, extraDrives: [{ file: iso, kind: 'cdrom' }] });
    t.same(await loaded(vm), { origin: 'config-drive', source: '/dev/sr0:user-data' });
    t.equal(await hostnameOf(vm), 'prov-iso');
    await vm.kill();
  });

  await t.test('fw_cfg comes before a config drive', async (t) => {
    const vm = await machine.boot({ extraDrives: [{ file: vfat, kind: 'virtio' }] });
    t.same(await loaded(vm), { origin: 'fw_cfg', source: 'fw_cfg:opt/berth/config' });
    t.equal(await hostnameOf(vm), 'prov-fwcfg');
    t.notMatch(vm.console.text(), /msg="Config drive found"/, 'the drive is not even looked for');
    // As `berth ctl config apply` does: a new last good copy on /var.
    await (await vm.shell()).check(`printf '%s' '${config('prov-applied')}' > /var/lib/berth/config.yaml && sync`);
    await vm.kill();
  });

  await t.test('the same fw_cfg text at the next boot keeps the config applied since', async (t) => {
    const vm = await machine.boot();
    t.same(await loaded(vm), { origin: 'saved', source: '/var/lib/berth/config.yaml' });
    t.match(vm.console.text(), /msg="Config source unchanged since taken over, keeping the last good config" origin=fw_cfg/);
    t.equal(await hostnameOf(vm), 'prov-applied', 'the applied config is in force');
    await vm.kill();
  });
});

const served = join(work, 'served');
await mkdir(served, { recursive: true });
await writeFile(join(served, 'berth.yaml'), config('prov-url'));
const server = await startStaticServer(served);
const urlImage = await imageWithKernelArgs(image, join(work, 'url-image'), ['berth.config=http://10.0.2.100/berth.yaml']);

await runVmCase(
  t,
  'provisioning-url',
  { boots: 1, image: urlImage, config: config('prov-fwcfg'), guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 80, hostPort: server.port, mode: 'process' }] },
  async ({ machine }) => {
    await t.test('berth.config=<URL> on the kernel command line wins over fw_cfg and a drive; one dhcpcd', async (t) => {
      const vm = await machine.boot({ extraDrives: [{ file: vfat, kind: 'virtio' }] });
      t.same(await loaded(vm), { origin: 'url', source: 'http://10.0.2.100/berth.yaml' });
      t.equal(await hostnameOf(vm), 'prov-url');
      t.ok(server.requests.some((r) => r.path === '/berth.yaml' && r.status === 200), 'the guest fetched the config from the host');
      const text = vm.console.text();
      t.match(text, /msg="Network kept from the config fetch"/, 'the network stage keeps the early network');
      t.equal(text.match(/daemon=dhcpcd[^\n]*msg="Daemon started"|msg="Daemon started"[^\n]*daemon=dhcpcd/g)?.length, 1, 'dhcpcd started once');
      await vm.kill();
    });
  },
);
await server.close();
// The disk copy and drives are big; kept only when something failed, beside the kept console logs.
if (t.passing() && process.env.BERTH_QEMU_KEEP !== '1') await rm(work, { recursive: true, force: true });
