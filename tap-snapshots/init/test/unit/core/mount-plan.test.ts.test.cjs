/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/mount-plan.test.ts > TAP > the full mount table in boot order > mount argv 1`] = `
Array [
  "mount -t proc -o nosuid,nodev,noexec proc /proc",
  "mount -t sysfs -o nosuid,nodev,noexec sysfs /sys",
  "mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev",
  "mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts",
  "mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm",
  "mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run",
  "mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp",
  "mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup",
  "mount -t ext4 -o noatime /dev/vda4 /var",
  "mount -t efivarfs -o nosuid,nodev,noexec efivarfs /sys/firmware/efi/efivars",
  "mount -t overlay -o lowerdir=/etc,upperdir=/var/lib/berth/etc/upper,workdir=/var/lib/berth/etc/work overlay /etc",
]
`
