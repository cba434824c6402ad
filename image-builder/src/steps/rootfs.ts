/**
 * Stage 1: the Debian root filesystem, made by mmdebstrap from Debian packages (no
 * Docker, no loop devices). Effects: runs mmdebstrap, writes rootfs.tar in its stage dir.
 * The mirror is mmdebstrap's default for the suite; berth names no mirror host.
 */
import path from 'node:path';
import { $ } from 'zx';
import { hashInputs } from '../cache.ts';
import type { BuildContext } from './context.ts';

/** What a container host needs at run time, and what the initramfs is made from. */
export function basePackages(kernel: 'cloud' | 'generic'): string[] {
  return [
    kernel === 'cloud' ? 'linux-image-cloud-amd64' : 'linux-image-amd64',
    // setfattr: the runtime's unpacker sets layer xattrs (Node has no xattr API); issue 3.
    'attr',
    'busybox-static',
    'ca-certificates',
    // CNI plugins for bridge networking of containers (bridge, host-local, loopback, portmap, firewall;
    // the others are pruned from the root in root-image.ts).
    'containernetworking-plugins',
    // NTP client init starts with the machine config's servers (issue 5).
    'chrony',
    'crun',
    // dhcpcd 10 without the systemd/ifupdown glue: DHCPv4 and IPv6 RA/SLAAC, supervised by init.
    'dhcpcd-base',
    'dmsetup',
    'e2fsprogs',
    'fdisk',
    // The bridge/portmap/firewall CNI plugins program NAT and filter rules with iptables (nft backend).
    'iptables',
    'iproute2',
    'kmod',
    'libstdc++6',
    // /usr/share/zoneinfo for the machine config's time_zone (/etc/localtime points into it).
    'tzdata',
    'util-linux',
  ];
}

export async function buildRootfs(ctx: BuildContext): Promise<{ tar: string; key: string; cached: boolean }> {
  const packages = [...basePackages(ctx.profile.kernel), ...ctx.profile.packages].sort();
  const mmdebstrapVersion = (await $`mmdebstrap --version`.quiet()).stdout.trim();
  const key = hashInputs({ stage: 'rootfs', suite: ctx.profile.suite, packages, epoch: ctx.epoch, mmdebstrapVersion });
  const result = await ctx.cache.stage('rootfs', key, async (dir) => {
    const tar = path.join(dir, 'rootfs.tar');
    // essential variant: dpkg but no apt inside; apt runs outside the chroot.
    await $({ env: { ...process.env, SOURCE_DATE_EPOCH: String(ctx.epoch) } })`mmdebstrap --quiet --variant=essential --include=${packages.join(',')} --format=tar ${ctx.profile.suite} ${tar}`;
  });
  return { tar: path.join(result.dir, 'rootfs.tar'), key, cached: result.cached };
}
