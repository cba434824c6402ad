import t from 'tap';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../../sys/path-exists.ts';

void t.test('pathExists follows symlinks and says false for what is not there', async (t) => {
  const dir = t.testdir({ file: 'x', sub: {} });
  t.equal(await pathExists(join(dir, 'file')), true);
  t.equal(await pathExists(join(dir, 'sub')), true);
  t.equal(await pathExists(join(dir, 'missing')), false);
  t.equal(await pathExists(join(dir, 'file', 'below-a-file')), false);
  await symlink(join(dir, 'sub'), join(dir, 'good-link'));
  await symlink(join(dir, 'missing'), join(dir, 'dangling-link'));
  t.equal(await pathExists(join(dir, 'good-link')), true);
  t.equal(await pathExists(join(dir, 'dangling-link')), false, 'a dangling symlink leads nowhere');
});
