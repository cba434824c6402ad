// Reading image files from the host resolves symlinks inside the image root, never the host's.
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { readFileInRoot, resolveInRoot } from '../../src/store/rootfs-read.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('symlinks resolve inside the root', async (t) => {
  const base = t.testdir({
    host: { secret: 'host secret\n' },
    root: { etc: { 'passwd.real': 'app:x:1000:1000::/:/bin/sh\n', group: 'app:x:1000:\n' }, usr: { lib: { os: 'ID=test\n' } } },
  });
  const root = nodePath.join(base, 'root');
  const host = nodePath.join(base, 'host');
  await fsp.symlink('passwd.real', nodePath.join(root, 'etc/passwd'));
  await fsp.symlink(nodePath.join(host, 'secret'), nodePath.join(root, 'etc/shadow'));
  await fsp.symlink('../../../../../../../../host/secret', nodePath.join(root, 'etc/climb'));
  await fsp.symlink('/usr/lib/os', nodePath.join(root, 'etc/os-release'));
  await fsp.symlink('/', nodePath.join(root, 'rootlink'));
  await fsp.symlink('loop2', nodePath.join(root, 'loop1'));
  await fsp.symlink('loop1', nodePath.join(root, 'loop2'));

  t.equal((await readFileInRoot(root, '/etc/passwd'))?.toString(), 'app:x:1000:1000::/:/bin/sh\n', 'relative symlink');
  t.equal((await readFileInRoot(root, 'etc/os-release'))?.toString(), 'ID=test\n', 'absolute symlink restarts at the image root');
  t.equal(await readFileInRoot(root, '/etc/shadow'), undefined, 'an absolute link to a host path looks inside the image, where nothing is');
  t.equal(await resolveInRoot(root, '/etc/shadow'), nodePath.join(root, host.slice(1), 'secret'));
  t.equal(await readFileInRoot(root, '/etc/climb'), undefined, '.. stops at the image root');
  t.equal(await resolveInRoot(root, '/etc/climb'), nodePath.join(root, 'host/secret'));
  t.equal((await readFileInRoot(root, '/rootlink/rootlink/etc/group'))?.toString(), 'app:x:1000:\n');
  t.equal(await readFileInRoot(root, '/missing/file'), undefined);
  await t.rejects(readFileInRoot(root, '/loop1'), { code: errorCode('RUNTIME_ROOTFS_PATH'), message: /too many levels/ });
  await t.rejects(readFileInRoot(root, '/etc/group/x'), { code: errorCode('RUNTIME_ROOTFS_PATH'), message: /'etc\/group' is not a directory/ });
  await t.rejects(readFileInRoot(root, '/etc'), { code: errorCode('RUNTIME_ROOTFS_PATH'), message: /not a regular file/ });
  await t.rejects(readFileInRoot(root, '/etc/passwd', 4), { code: errorCode('RUNTIME_ROOTFS_PATH'), message: /more than 4/ });
});
