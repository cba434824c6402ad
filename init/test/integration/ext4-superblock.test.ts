// init's own reading of the data partition's superblock against what mke2fs wrote and what
// dumpe2fs, tune2fs and debugfs say about the same file system image.
import { execFileSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { EXT4_SUPERBLOCK_BYTES, EXT4_SUPERBLOCK_OFFSET, readExt4Superblock } from '../../src/core/ext4-superblock.ts';
import { parseDumpe2fsSize } from '../../src/core/data-partition.ts';

const run = (file: string, args: string[]): string => execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function superblockOf(image: string): Promise<Uint8Array> {
  const handle = await open(image, 'r');
  try {
    const buffer = Buffer.alloc(EXT4_SUPERBLOCK_BYTES);
    await handle.read(buffer, 0, EXT4_SUPERBLOCK_BYTES, EXT4_SUPERBLOCK_OFFSET);
    return buffer;
  } finally {
    await handle.close();
  }
}

function freshImage(dir: string, name: string): string {
  const image = join(dir, name);
  run('truncate', ['-s', '64M', image]);
  // As init makes the data file system (core/data-partition.ts), with the host's mke2fs defaults.
  run('/usr/sbin/mkfs.ext4', ['-q', '-F', '-L', 'berth-data', image]);
  return image;
}

const now = (): number => Math.floor(Date.now() / 1000);

void t.test('a fresh ext4 from mkfs.ext4: clean, the size dumpe2fs reports, and e2fsck -p agrees', async (t) => {
  const image = freshImage(t.testdir(), 'data.img');
  const read = readExt4Superblock(await superblockOf(image), now());
  t.equal(read.kind, 'ext4');
  if (read.kind !== 'ext4') return;
  t.equal(read.superblock.sizeBytes, parseDumpe2fsSize(run('/usr/sbin/dumpe2fs', ['-h', image])));
  t.equal(read.superblock.fsckReason, undefined);
  t.match(run('/usr/sbin/e2fsck', ['-p', image]), /clean/, 'e2fsck -p finds nothing to do either');
});

void t.test('what makes e2fsck -p check, written by the e2fsprogs tools', async (t) => {
  const dir = t.testdir();
  const reasonAfter = async (name: string, tool: string, args: string[]): Promise<string | undefined> => {
    const image = freshImage(dir, name);
    run(tool, [...args, image]);
    const read = readExt4Superblock(await superblockOf(image), now());
    return read.kind === 'ext4' ? read.superblock.fsckReason : `unknown: ${read.why}`;
  };
  t.equal(await reasonAfter('unclean.img', '/usr/sbin/debugfs', ['-w', '-R', 'ssv state 0']), 'not cleanly unmounted');
  t.equal(await reasonAfter('errors.img', '/usr/sbin/debugfs', ['-w', '-R', 'ssv state 3']), 'errors recorded');
  t.equal(await reasonAfter('journal.img', '/usr/sbin/debugfs', ['-w', '-R', 'feature needs_recovery']), 'the journal needs replaying');
  t.equal(await reasonAfter('count.img', '/usr/sbin/tune2fs', ['-c', '5', '-C', '5']), 'mounted 5 times (check every 5)');
  t.equal(await reasonAfter('interval.img', '/usr/sbin/tune2fs', ['-i', '1d', '-T', '20200101']), 'the periodic check is due');
  t.equal(await reasonAfter('nocsum.img', '/usr/sbin/tune2fs', ['-O', '^metadata_csum']), undefined, 'without metadata_csum it reads the same');
});
