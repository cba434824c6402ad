import t from 'tap';
import { mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicTempPath, replaceFileAtomically, syncDirectory, syncFile, writeFileAtomically } from '../../sys/atomic-file.ts';

void t.test('writeFileAtomically replaces a file and leaves no temp file behind', async (t) => {
  const dir = t.testdir({ 'config.yaml': 'old\n' });
  await writeFileAtomically(join(dir, 'config.yaml'), 'new\n');
  t.equal(await readFile(join(dir, 'config.yaml'), 'utf8'), 'new\n');
  t.same(await readdir(dir), ['config.yaml']);
  t.equal((await stat(join(dir, 'config.yaml'))).mode & 0o777, 0o600, 'private by default');
  await writeFileAtomically(join(dir, 'public.json'), Buffer.from('{}'), { mode: 0o644 });
  t.equal((await stat(join(dir, 'public.json'))).mode & 0o777, 0o644);
  t.equal(await readFile(join(dir, 'public.json'), 'utf8'), '{}');
});

void t.test('the temp file is hidden, beside the target, and reused after a crash', async (t) => {
  t.equal(atomicTempPath('/var/lib/berth/state/update-journal.json'), '/var/lib/berth/state/.update-journal.json.tmp');
  const dir = t.testdir({ '.journal.json.tmp': '{"half": ', 'journal.json': 'old' });
  await writeFileAtomically(join(dir, 'journal.json'), 'new');
  t.same((await readdir(dir)).sort(), ['journal.json'], 'the leftover of a power cut is overwritten, not kept');
  t.equal(await readFile(join(dir, 'journal.json'), 'utf8'), 'new');
});

void t.test('a failed write keeps the old file and removes the temp file', async (t) => {
  const dir = t.testdir({ 'entry.conf': 'old' });
  const failure = new Error('disk full');
  await t.rejects(
    replaceFileAtomically(join(dir, 'entry.conf'), async (handle) => {
      await handle.write('half of the new');
      throw failure;
    }),
    failure,
    'the error comes back as it was thrown',
  );
  t.equal(await readFile(join(dir, 'entry.conf'), 'utf8'), 'old');
  t.same(await readdir(dir), ['entry.conf']);
  await t.rejects(writeFileAtomically(join(dir, 'missing-dir', 'x'), 'data'), { code: 'ENOENT' }, 'the directory must exist');
});

void t.test('replaceFileAtomically streams through the handle', async (t) => {
  const dir = t.testdir();
  await replaceFileAtomically(join(dir, 'vmlinuz'), async (handle) => {
    for (const part of ['a', 'b', 'c']) await handle.write(part);
  }, { mode: 0o644 });
  t.equal(await readFile(join(dir, 'vmlinuz'), 'utf8'), 'abc');
});

void t.test('syncDirectory and syncFile', async (t) => {
  const dir = t.testdir({ file: 'x', sub: {} });
  await t.resolves(syncDirectory(dir));
  await t.resolves(syncFile(join(dir, 'file')));
  await t.rejects(syncDirectory(join(dir, 'file')), { code: 'ENOTDIR' }, 'a file is not a directory');
  await t.rejects(syncDirectory(join(dir, 'missing')), { code: 'ENOENT' });
  await symlink(join(dir, 'sub'), join(dir, 'link'));
  await t.resolves(syncDirectory(join(dir, 'link')), 'a symlinked directory is followed by default');
  await t.rejects(syncDirectory(join(dir, 'link'), { refuseSymlink: true }), { code: 'ENOTDIR' }, 'O_NOFOLLOW with O_DIRECTORY refuses a symlink');
  await mkdir(join(dir, 'sub', 'deeper'));
  await writeFile(join(dir, 'sub', 'deeper', 'f'), '');
  await t.resolves(syncDirectory(join(dir, 'sub', 'deeper'), { refuseSymlink: true }));
});
