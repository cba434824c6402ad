/**
 * Reading the guest's ESP from a test without racing init.
 *
 * init mounts the ESP only while it blesses a boot entry or the updater switches one, so a
 * mount seen in /proc/mounts may vanish before it is read, a read-only mount here would make
 * init's read-write mount fail ("would change RO state"), and a mount in init's namespace could
 * be taken by init as "already mounted" and then unmounted under it by the test. In a private
 * mount namespace, mounted read-write like init's, both share one superblock and neither
 * disturbs the other; the namespace (and the test's mount) goes away with the command.
 */
import type { DebugShell } from '../../vm/src/index.ts';

const MOUNT_POINT = '/run/berth-test-esp';

export async function listBootEntries(shell: DebugShell): Promise<string[]> {
  const script = [
    "unshare -m --propagation private sh -c '",
    'dev=$(blkid -t PARTLABEL=esp -o device) || { echo "no partition labelled esp"; exit 3; }',
    `mkdir -p ${MOUNT_POINT} && mount -t vfat -o nosuid,nodev,noexec "$dev" ${MOUNT_POINT} || exit 4`,
    `ls -1 ${MOUNT_POINT}/loader/entries`,
    "'",
  ].join('\n');
  return (await shell.check(script))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.endsWith('.conf'))
    .sort();
}
