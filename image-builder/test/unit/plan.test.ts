import t from 'tap';
import { planDisk, renderSfdiskScript, stableUuid } from '../../src/plan/partitions.ts';
import { moduleLoadOrder, parseModuleDb } from '../../src/plan/modules.ts';
import { initialBootEntries } from '../../src/steps/disk.ts';
import { renderBootEntry } from '../../../lib/boot-entry.ts';
import { needsPrunedInterpreter, packageInventory, renderOsRelease } from '../../src/steps/root-image.ts';

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
