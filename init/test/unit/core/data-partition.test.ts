import t from 'tap';
import {
  freeSectorsAfter,
  fsckVerdict,
  parseBlkidType,
  parseDumpe2fsSize,
  planDataPartition,
  type DataPartitionFacts,
} from '../../../src/core/data-partition.ts';

const partition = { device: '/dev/vda4', disk: '/dev/vda', number: 4, name: 'vda4', diskName: 'vda' };
const GiB = 2 * 1024 * 1024; // sectors

// A 4 GiB image: data partition from 3 GiB to the last usable sector.
const asBuilt: DataPartitionFacts = {
  partition,
  fsType: undefined,
  partitionStart: 3 * GiB,
  partitionSectors: GiB - 2048 - 33,
  diskSectors: 4 * GiB,
};

void t.test('first boot on the disk as built: mkfs, mount', (t) => {
  const plan = planDataPartition(asBuilt);
  t.equal(plan.kind, 'first-boot');
  t.matchSnapshot(plan, 'plan');
  t.end();
});

void t.test('first boot on an enlarged disk: relocate GPT, grow, mkfs, mount', (t) => {
  const plan = planDataPartition({ ...asBuilt, diskSectors: 20 * GiB });
  t.equal(plan.kind, 'first-boot');
  t.matchSnapshot(plan, 'plan');
  t.end();
});

void t.test('later boot, same disk: fsck, mount', (t) => {
  const plan = planDataPartition({ ...asBuilt, fsType: 'ext4', filesystemBytes: (GiB - 4096) * 512 });
  t.matchSnapshot(plan, 'plan');
  t.end();
});

void t.test('later boot, superblock read clean: no fsck before the mount, e2fsck -p only if the mount fails', (t) => {
  const plan = planDataPartition({ ...asBuilt, fsType: 'ext4', filesystemBytes: (GiB - 4096) * 512, isKnownClean: true });
  t.same(plan.kind === 'existing' && plan.steps.map((s) => s.kind), ['mount']);
  t.match(plan.kind === 'existing' && plan.steps[0], { kind: 'mount', spec: { target: '/var' }, fsckOnFailure: { kind: 'fsck', args: ['-p', '/dev/vda4'] } });
  const grown = planDataPartition({ ...asBuilt, fsType: 'ext4', diskSectors: 8 * GiB, filesystemBytes: (GiB - 4096) * 512, isKnownClean: true });
  t.same(grown.kind === 'existing' && grown.steps.map((s) => (s.kind === 'exec' ? s.purpose : s.kind)), ['relocate-gpt', 'grow-partition', 'reread-partition', 'mount', 'resize-fs']);
  const unknown = planDataPartition({ ...asBuilt, fsType: 'ext4', filesystemBytes: (GiB - 4096) * 512, isKnownClean: false });
  t.same(unknown.kind === 'existing' && unknown.steps.map((s) => s.kind), ['fsck', 'mount'], 'a check due: e2fsck -p first, as before');
  t.end();
});

void t.test('later boot, disk grew: fsck, grow, mount, online resize', (t) => {
  const plan = planDataPartition({ ...asBuilt, fsType: 'ext4', diskSectors: 8 * GiB, filesystemBytes: (GiB - 4096) * 512 });
  t.matchSnapshot(plan, 'plan');
  t.end();
});

void t.test('later boot, partition grown but filesystem not (crash before resize2fs): resize', (t) => {
  const plan = planDataPartition({ ...asBuilt, fsType: 'ext4', filesystemBytes: 256 * 1024 * 1024 });
  t.ok(plan.kind === 'existing' && plan.steps.some((s) => s.kind === 'exec' && s.purpose === 'resize-fs'));
  t.ok(plan.kind === 'existing' && !plan.grow);
  t.end();
});

void t.test('a foreign filesystem is never formatted', (t) => {
  const plan = planDataPartition({ ...asBuilt, fsType: 'xfs' });
  t.equal(plan.kind, 'refuse');
  t.end();
});

void t.test('small gaps left by alignment do not trigger growing', (t) => {
  t.equal(freeSectorsAfter(asBuilt), 2048);
  const plan = planDataPartition({ ...asBuilt, fsType: 'ext4' });
  t.ok(plan.kind === 'existing' && !plan.grow);
  t.end();
});

void t.test('e2fsck exit codes', (t) => {
  t.equal(fsckVerdict(0), 'clean');
  t.equal(fsckVerdict(1), 'repaired');
  t.equal(fsckVerdict(2), 'repaired');
  t.equal(fsckVerdict(3), 'repaired');
  t.equal(fsckVerdict(4), 'needs-repair');
  t.equal(fsckVerdict(5), 'needs-repair');
  t.equal(fsckVerdict(8), 'failed');
  t.equal(fsckVerdict(12), 'failed');
  t.equal(fsckVerdict(32), 'failed');
  t.end();
});

void t.test('blkid and dumpe2fs answers', (t) => {
  t.equal(parseBlkidType(0, 'ext4\n'), 'ext4');
  t.equal(parseBlkidType(2, ''), undefined);
  t.equal(parseBlkidType(0, '\n'), undefined);
  t.equal(parseDumpe2fsSize('Filesystem volume name:   berth-data\nBlock count:              262144\nBlock size:               4096\n'), 1073741824);
  t.equal(parseDumpe2fsSize('nothing'), undefined);
  t.end();
});
