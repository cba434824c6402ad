/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/boot.test.ts > TAP > first boot: mounts, modules, cgroups, mkfs, /etc overlay, config, ready, bless > commands run 1`] = `
Array [
  "/usr/bin/mount -t proc -o nosuid,nodev,noexec proc /proc",
  "/usr/bin/mount -t sysfs -o nosuid,nodev,noexec sysfs /sys",
  "/usr/bin/mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev",
  "/usr/bin/mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts",
  "/usr/bin/mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm",
  "/usr/bin/mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run",
  "/usr/bin/mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp",
  "/usr/bin/mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup",
  "/usr/sbin/modprobe -a overlay vfat efivarfs qemu_fw_cfg button evdev virtio_net i6300esb",
  "/usr/sbin/blkid -p -o value -s TYPE /dev/vda4",
  "/usr/sbin/dumpe2fs -h /dev/vda4",
  "/usr/sbin/sfdisk --relocate gpt-bak-std /dev/vda",
  "/usr/sbin/sfdisk --no-reread -N 4 /dev/vda",
  "/usr/bin/partx -u --nr 4 /dev/vda",
  "/usr/sbin/mkfs.ext4 -q -L berth-data /dev/vda4",
  "/usr/bin/mount -t ext4 -o noatime /dev/vda4 /var",
  "/usr/bin/mount -t efivarfs -o nosuid,nodev,noexec efivarfs /sys/firmware/efi/efivars",
  "/usr/bin/mount -t overlay -o lowerdir=/etc,upperdir=/var/lib/berth/etc/upper,workdir=/var/lib/berth/etc/work overlay /etc",
  "/usr/bin/ip link set dev lo up",
  "/usr/bin/ip -json address show",
  "/usr/bin/ip -json address show",
  "/usr/bin/mount -t vfat -o nosuid,nodev,noexec,umask=0077 /dev/vda1 /efi",
  "/usr/bin/sync",
  "/usr/bin/umount /efi",
]
`
