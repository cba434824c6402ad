import t from 'tap';
import {
  DEFAULT_INODE_RESERVE_MAX,
  MAX_CHECK_INTERVAL_BYTES,
  decideFits,
  estimateUnpackedBytes,
  formatSize,
  isPlainTarLayer,
  nextCheck,
  refusalBeforeStart,
  refusalWhileWriting,
  reserveFor,
  type FileSystemSpace,
} from '../../src/core/disk-reserve.ts';
import { createFakeDiskSpace, createSpaceGuard } from '../../src/store/disk-space.ts';
import { errorCode } from '../../../lib/errors.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const disk = (totalBytes: number, availableBytes: number, inodes = { total: 1_000_000, free: 900_000 }): FileSystemSpace => ({
  totalBytes,
  availableBytes,
  totalInodes: inodes.total,
  freeInodes: inodes.free,
});

void t.test('the default reserve is 10% of /var or 1 GiB, whichever is smaller', (t) => {
  t.same(reserveFor(disk(4 * GIB, 0)), { bytes: Math.floor(0.4 * GIB), inodes: 65_536 }, '4 GiB: 10%');
  t.same(reserveFor(disk(10 * GIB, 0)).bytes, GIB, '10 GiB: exactly 1 GiB');
  t.same(reserveFor(disk(500 * GIB, 0)).bytes, GIB, '500 GiB: capped at 1 GiB');
  t.same(reserveFor(disk(300 * MIB, 0, { total: 76_800, free: 70_000 })), { bytes: 30 * MIB, inodes: 7680 }, 'small: 10% of bytes and of inodes');
  t.equal(reserveFor(disk(100 * GIB, 0, { total: 10_000_000, free: 1 })).inodes, DEFAULT_INODE_RESERVE_MAX, 'inodes capped');
  t.end();
});

void t.test('a configured reserve: a share or a size; 0 turns both reserves off', (t) => {
  t.equal(reserveFor(disk(200 * GIB, 0), { percent: 5 }).bytes, 10 * GIB, '5% of 200 GiB, no 1 GiB cap');
  t.equal(reserveFor(disk(2 * GIB, 0), { bytes: 3 * GIB }).bytes, 3 * GIB, 'a size is taken as is, even above the disk');
  t.same(reserveFor(disk(2 * GIB, 0), { bytes: 0 }), { bytes: 0, inodes: 0 });
  t.end();
});

void t.test('unpacked size: 4x a compressed layer, 1x a plain tar', (t) => {
  t.ok(isPlainTarLayer('application/vnd.oci.image.layer.v1.tar'));
  t.ok(isPlainTarLayer('application/vnd.docker.image.rootfs.diff.tar'));
  t.notOk(isPlainTarLayer('application/vnd.oci.image.layer.v1.tar+gzip'));
  t.notOk(isPlainTarLayer('application/vnd.docker.image.rootfs.diff.tar.gzip'));
  t.notOk(isPlainTarLayer('application/vnd.oci.image.layer.v1.tar+zstd'));
  t.equal(
    estimateUnpackedBytes([
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10 * MIB },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', size: 3 * MIB },
      { mediaType: 'application/x-something', size: MIB },
    ]),
    40 * MIB + 3 * MIB + 4 * MIB,
    'unknown types count as compressed',
  );
  t.equal(estimateUnpackedBytes([]), 0);
  t.end();
});

void t.test('an operation fits only if it leaves the reserve free', (t) => {
  const space = disk(10 * GIB, 3 * GIB);
  const reserve = reserveFor(space);
  t.same(decideFits(space, reserve, 2 * GIB), { fits: true, leftBytes: 0 }, 'exactly up to the reserve');
  t.same(decideFits(space, reserve, 2 * GIB + 1), { fits: false, shortBytes: 1 });
  t.same(decideFits(disk(10 * GIB, GIB / 2), reserve, MIB), { fits: false, shortBytes: MIB }, 'already below the reserve: short by all of it');
  t.end();
});

void t.test('a writer looks again after half the room left, at most 16 MiB, and stops before crossing', (t) => {
  t.same(nextCheck({ bytes: 100 * MIB, inodes: 1000 }, MIB, 1), { ok: true, bytes: MAX_CHECK_INTERVAL_BYTES, inodes: 499 });
  t.same(nextCheck({ bytes: 4 * MIB, inodes: 1000 }, 0, 0), { ok: true, bytes: 2 * MIB, inodes: 500 });
  t.same(nextCheck({ bytes: 4 * MIB, inodes: 1000 }, 4 * MIB, 0), { ok: true, bytes: 0, inodes: 500 }, 'the last byte above the reserve');
  t.same(nextCheck({ bytes: 4 * MIB, inodes: 1000 }, 4 * MIB + 1, 0), { ok: false, short: 'bytes' });
  t.same(nextCheck({ bytes: 4 * MIB, inodes: 0 }, 10, 1), { ok: false, short: 'inodes' });
  t.same(nextCheck({ bytes: -5, inodes: 10 }, 0, 0), { ok: false, short: 'bytes' }, 'already below the reserve: nothing more fits');
  t.end();
});

void t.test('messages give the sizes, the reserve and its setting, and what to do', (t) => {
  t.equal(formatSize(512), '512 bytes');
  t.equal(formatSize(1536), '1.5 KiB');
  t.equal(formatSize(GIB), '1.0 GiB');
  const space = disk(20 * GIB, GIB + 300 * MIB);
  t.equal(
    refusalBeforeStart('its layers', 812 * MIB, space, reserveFor(space)),
    'its layers take about 812.0 MiB on /var and only 300.0 MiB is free above the reserve of 1.0 GiB (default: 10% of /var, at most 1 GiB); free space on /var (berth ctl prune, berth ctl rmi) or lower storage.reserve in the machine config',
  );
  t.match(refusalBeforeStart('its layers', MIB, space, reserveFor(space, { percent: 20 }), { percent: 20 }), /only 0 bytes is free above the reserve of 4\.0 GiB \(storage\.reserve: 20%\)/);
  t.match(refusalWhileWriting('Blob sha256:ab12', 'bytes', space, reserveFor(space, { bytes: 2 * GIB }), { bytes: 2 * GIB }), /^Blob sha256:ab12 stopped: \/var is down to 1\.3 GiB free, the reserve of 2\.0 GiB \(storage\.reserve: 2\.0 GiB\); what it wrote is removed again; free space/);
  t.match(refusalWhileWriting('Layer sha256:ab12', 'inodes', disk(20 * GIB, 10 * GIB, { total: 100_000, free: 9000 }), reserveFor(space)), /down to 9000 free inodes, the reserve is 65536/);
  t.end();
});

void t.test('the guard: a refusal before the start names the operation', async (t) => {
  const fake = createFakeDiskSpace(disk(10 * GIB, GIB + 10 * MIB));
  const guard = createSpaceGuard(fake, '/var/lib/berth/runtime');
  await guard.ensureRoom('its layers', 10 * MIB);
  await t.rejects(guard.ensureRoom('its layers', 10 * MIB + 1), { code: errorCode('RUNTIME_DISK_RESERVE'), message: /^its layers take about 10\.0 MiB on \/var and only 10\.0 MiB is free/ });
  guard.setReserve({ bytes: 0 });
  await guard.ensureRoom('its layers', GIB + 10 * MIB);
  t.end();
});

void t.test('the guard looks at the disk only now and then, more often near the reserve, and stops at it', async (t) => {
  const fake = createFakeDiskSpace(disk(10 * GIB, GIB + 64 * MIB));
  const guard = createSpaceGuard(fake, '/var');
  const chunk = 64 * 1024;
  let written = 0;
  let failure: unknown;
  try {
    for (;;) {
      await guard.charge('Blob sha256:ab12', chunk);
      fake.consume(chunk);
      written += chunk;
    }
  } catch (error) {
    failure = error;
  }
  t.match(failure, { code: errorCode('RUNTIME_DISK_RESERVE'), message: /^Blob sha256:ab12 stopped: \/var is down to 1\.0 GiB free/ });
  t.equal(written, 64 * MIB, 'every byte above the reserve was usable, none below');
  t.equal(fake.space.availableBytes, GIB, 'the reserve is intact');
  t.ok(fake.calls < 40, `statfs ${fake.calls} times for ${written / chunk} chunks`);
  t.end();
});

void t.test('the guard sees other writers at its next look', async (t) => {
  const fake = createFakeDiskSpace(disk(10 * GIB, GIB + 64 * MIB));
  const guard = createSpaceGuard(fake, '/var');
  await guard.charge('Layer sha256:ab12', MIB);
  fake.consume(64 * MIB); // logs, a container: /var is now at the reserve
  let charged = 0;
  await t.rejects(
    (async () => {
      for (;;) {
        await guard.charge('Layer sha256:ab12', 64 * 1024);
        charged += 64 * 1024;
      }
    })(),
    { code: errorCode('RUNTIME_DISK_RESERVE') },
  );
  t.ok(charged <= 32 * MIB, `at most half the room seen before was charged before the next look (${charged} bytes)`);
  t.end();
});

void t.test('the guard counts inodes: a layer of many small files stops at the inode reserve', async (t) => {
  const fake = createFakeDiskSpace(disk(10 * GIB, 5 * GIB, { total: 100_000, free: 10_100 }));
  const guard = createSpaceGuard(fake, '/var');
  let entries = 0;
  await t.rejects(
    (async () => {
      for (;;) {
        await guard.charge('Layer sha256:ab12', 4096, 1);
        fake.consume(4096, 1);
        entries += 1;
      }
    })(),
    { code: errorCode('RUNTIME_DISK_RESERVE'), message: /free inodes, the reserve is 10000/ },
  );
  t.equal(entries, 100, 'the inodes above the reserve, no more');
  t.end();
});

void t.test('a filesystem without an inode count (btrfs) has no inode limit', async (t) => {
  const fake = createFakeDiskSpace(disk(10 * GIB, 5 * GIB, { total: 0, free: 0 }));
  const guard = createSpaceGuard(fake, '/var');
  await t.resolves(async () => {
    for (let i = 0; i < 1000; i += 1) await guard.charge('Layer sha256:ab12', 4096, 1);
  }, 'a thousand entries charged');
  t.end();
});
