/**
 * Absolute paths of the programs init runs from the root filesystem (Debian trixie,
 * merged /usr). One list, so the image builder and the report know what init needs.
 */
import { PATHS } from '../../../lib/layout.ts';

export const TOOLS = {
  mount: '/usr/bin/mount',
  umount: '/usr/bin/umount',
  modprobe: '/usr/sbin/modprobe',
  blkid: '/usr/sbin/blkid',
  sfdisk: '/usr/sbin/sfdisk',
  partx: '/usr/bin/partx',
  e2fsck: '/usr/sbin/e2fsck',
  mkfsExt4: '/usr/sbin/mkfs.ext4',
  resize2fs: '/usr/sbin/resize2fs',
  dumpe2fs: '/usr/sbin/dumpe2fs',
  stty: '/usr/bin/stty',
  sync: '/usr/bin/sync',
  sh: '/bin/sh',
  ip: '/usr/bin/ip',
  dhcpcd: '/usr/sbin/dhcpcd',
  chronyd: '/usr/sbin/chronyd',
  etcd: '/usr/bin/etcd',
  setpriv: '/usr/bin/setpriv',
  busybox: PATHS.busybox,
} as const;

/** Kernel and sysfs paths init reads or writes (not berth's own contract, so not in lib/layout). */
export const KERNEL_PATHS = {
  mountInfo: '/proc/self/mountinfo',
  uptime: '/proc/uptime',
  cmdline: '/proc/cmdline',
  hostname: '/proc/sys/kernel/hostname',
  ctrlAltDel: '/proc/sys/kernel/ctrl-alt-del',
  oomScoreAdj: '/proc/self/oom_score_adj',
  sysrqTrigger: '/proc/sysrq-trigger',
  sysClassBlock: '/sys/class/block',
  sysClassInput: '/sys/class/input',
  efiFirmware: '/sys/firmware/efi',
  sysClassNet: '/sys/class/net',
} as const;
