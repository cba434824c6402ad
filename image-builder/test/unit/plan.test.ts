import t from 'tap';
import { planDisk, renderSfdiskScript, stableUuid } from '../../src/plan/partitions.ts';
import { moduleLoadOrder, parseModuleDb } from '../../src/plan/modules.ts';
import { initialBootEntries } from '../../src/steps/disk.ts';
import { renderBootEntry } from '../../../lib/boot-entry.ts';
import { needsPrunedInterpreter, packageInventory, parseReadelfDynamic, prunablePackageFiles, PRUNED_PACKAGES, renderOsRelease, unresolvedLibraries } from '../../src/steps/root-image.ts';

const MIB = 1024 * 1024;

void t.test('disk plan: ESP, two equal root slots, data; 1 MiB aligned; stable UUIDs', async (t) => {
  const plan = planDisk({ esp: 128 * MIB, root: 512 * MIB, data: 64 * MIB + 1 }, 'seed');
  t.same(plan.partitions.map((p) => p.label), ['esp', 'root-a', 'root-b', 'data']);
  const [esp, a, b, data] = plan.partitions;
  t.equal(esp?.startBytes, MIB);
  t.equal(a?.sizeBytes, b?.sizeBytes);
  t.equal(data?.sizeBytes, 65 * MIB, 'sizes round up to whole MiB');
  for (const p of plan.partitions) t.equal(p.startBytes % MIB, 0, `${p.label} is aligned`);
  t.equal(plan.sizeBytes, (data?.startBytes ?? 0) + (data?.sizeBytes ?? 0) + MIB, 'room for the backup GPT');
  t.equal(stableUuid('seed', 'esp'), esp?.uuid);
  t.not(stableUuid('other', 'esp'), esp?.uuid);
  t.match(esp?.uuid, /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  t.matchSnapshot(renderSfdiskScript(plan), 'sfdisk script');
});

void t.test('initramfs modules load after their dependencies; built-in ones are skipped', async (t) => {
  const db = parseModuleDb(
    [
      'kernel/drivers/md/dm-verity.ko.xz: kernel/drivers/md/dm-bufio.ko.xz kernel/drivers/md/dm-mod.ko.xz kernel/lib/reed_solomon/reed_solomon.ko.xz',
      'kernel/drivers/md/dm-bufio.ko.xz: kernel/drivers/md/dm-mod.ko.xz',
      'kernel/drivers/md/dm-mod.ko.xz:',
      'kernel/lib/reed_solomon/reed_solomon.ko.xz:',
      'kernel/drivers/block/virtio_blk.ko.xz:',
    ].join('\n'),
    'kernel/drivers/nvme/host/nvme.ko\n',
  );
  const { order, skipped } = moduleLoadOrder(db, ['virtio_blk', 'dm-verity', 'nvme', 'not_there']);
  t.same(order, ['virtio_blk', 'dm_mod', 'dm_bufio', 'reed_solomon', 'dm_verity']);
  t.same(skipped, ['nvme', 'not_there']);
});

void t.test('initial boot entries: both slots, slot a preferred, counters are added by the writer', async (t) => {
  const verity = { rootHash: 'aa'.repeat(32), dataBlocks: 10, hashStartBlock: 10, salt: 'bb'.repeat(32) };
  const entries = initialBootEntries('0.1.0', verity, ['console=ttyS0,115200']);
  t.same(entries.map((e) => [e.slot, e.generation]), [['a', 2], ['b', 1]]);
  t.matchSnapshot(entries.map(renderBootEntry).join('---\n'), 'entries');
});

void t.test('package inventory lists installed packages only, sorted', async (t) => {
  const status = 'Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.3\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: crun\nStatus: install ok installed\nVersion: 1.21-1\n';
  t.same(packageInventory(status), ['crun=1.21-1', 'zlib1g=1:1.3']);
  t.same(packageInventory(status, ['crun']), ['zlib1g=1:1.3'], 'a package pruned whole is not in the image, so not in its inventory');
  t.match(renderOsRelease('1.2.3'), /^VERSION_ID=1\.2\.3$/m);
});

void t.test('root: scripts whose interpreter is pruned (perl) are found by their shebang', async (t) => {
  for (const head of ['#!/usr/bin/perl\nuse strict;', '#!/usr/bin/perl -w\n', '#! /usr/bin/perl\n', '#!/usr/bin/env perl\n', '#!/usr/bin/perl5.40.1\n']) {
    t.equal(needsPrunedInterpreter(head), true, JSON.stringify(head));
  }
  for (const head of ['#!/bin/sh\n', '#!/usr/bin/env python3\n', '#!/usr/bin/perlish\n', '\x7fELF\x02\x01', 'perl\n', '#!/usr/bin/env sh perl\n', '']) {
    t.equal(needsPrunedInterpreter(head), false, JSON.stringify(head));
  }
});

void t.test('root: a pruned package loses its files, not the directories it shares, nor the modprobe options kmod reads', async (t) => {
  const list = ['/.', '/usr', '/usr/bin', '/usr/bin/udevadm', '/usr/lib/modprobe.d', '/usr/lib/modprobe.d/fbdev-blacklist.conf', '/usr/lib/udev/rules.d/50-udev-default.rules', ''].join('\n');
  const directories = new Set(['usr', 'usr/bin', 'usr/lib/modprobe.d']);
  t.same(prunablePackageFiles(list, (rel) => directories.has(rel)), ['usr/bin/udevadm', 'usr/lib/udev/rules.d/50-udev-default.rules']);
  for (const kept of ['libsystemd0', 'libudev1', 'libc6', 'crun', 'dhcpcd-base', 'util-linux', 'kmod']) t.notOk(PRUNED_PACKAGES.includes(kept), `${kept} stays`);
});

void t.test('root: every library a program links must survive the prunes', async (t) => {
  const out = [
    'File: usr/bin/crun',
    '',
    'Dynamic section at offset 0x1 contains 30 entries:',
    ' 0x0000000000000001 (NEEDED)             Shared library: [libsystemd.so.0]',
    ' 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]',
    'File: usr/lib/berth/berth-pid1',
    'There is no dynamic section in this file.',
    'File: usr/lib/x86_64-linux-gnu/systemd/systemd-x',
    ' 0x0000000000000001 (NEEDED)             Shared library: [libsystemd-shared-257.so]',
    ' 0x000000000000001d (RUNPATH)            Library runpath: [$ORIGIN:/usr/lib/x86_64-linux-gnu/systemd]',
  ].join('\n');
  const elves = parseReadelfDynamic(out, ['usr/bin/crun', 'usr/lib/berth/berth-pid1', 'usr/lib/x86_64-linux-gnu/systemd/systemd-x']);
  t.same(elves, [
    { file: 'usr/bin/crun', needed: ['libsystemd.so.0', 'libc.so.6'], runpath: [] },
    { file: 'usr/lib/berth/berth-pid1', needed: [], runpath: [] },
    { file: 'usr/lib/x86_64-linux-gnu/systemd/systemd-x', needed: ['libsystemd-shared-257.so'], runpath: ['usr/lib/x86_64-linux-gnu/systemd', 'usr/lib/x86_64-linux-gnu/systemd'] },
  ]);
  const single = parseReadelfDynamic(' 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n', ['usr/bin/ip']);
  t.same(single, [{ file: 'usr/bin/ip', needed: ['libc.so.6'], runpath: [] }], 'readelf prints no File: header for one file');
  const present = new Set(['usr/lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-257.so']);
  t.same(unresolvedLibraries(elves, (rel) => present.has(rel)), ['usr/bin/crun needs libsystemd.so.0']);
  present.add('usr/lib/x86_64-linux-gnu/libsystemd.so.0');
  t.same(unresolvedLibraries(elves, (rel) => present.has(rel)), []);
});
