/**
 * The bench's reference host ("peer"): Debian trixie with systemd as PID 1 and podman with
 * crun, the same kernel package as berth, on a plain ext4 root behind systemd-boot, with the
 * bench's busybox image preloaded into podman's store and a bare crun bundle beside it.
 * Built once per content hash of this code under out/peer/<hash>/. Effects: mmdebstrap (root
 * mode, into a directory), chroot for `podman load`, mkfs, sfdisk, mtools, qemu-img.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { ROOT_SQUASHFS_COMPRESSION } from '../../image-builder/src/index.ts';
import { ociArchive, writeTestImage } from '../../vm/src/index.ts';

/**
 * The container image on both hosts: the container tests' busybox-static image (the one
 * qemu-tests/profiles/containers.yaml preloads on berth), under this name on the peer.
 */
export const BENCH_IMAGE_REF = 'localhost/berth-test:latest';

/** What a user would install for "a Debian box that runs containers with podman". */
export const PEER_PACKAGES = [
  'linux-image-cloud-amd64',
  'initramfs-tools',
  'zstd',
  'systemd-sysv',
  'udev',
  'dbus',
  'podman',
  'crun',
  'conmon',
  'catatonit',
  'netavark',
  'aardvark-dns',
  'passt',
  'e2fsprogs',
  'procps',
  'iproute2',
  'kmod',
  'ca-certificates',
  'busybox-static',
];

/** Filesystem UUID of the peer's root (fixed: the kernel command line names it). */
export const PEER_ROOT_UUID = '6c2a9e0e-5b1f-4d7e-9a51-0b3e1e7c0a11';
/** The console line the peer's report unit prints last, once systemd says boot finished. */
export const PEER_READY_PATTERN = /PEER-READY uptime_s=([\d.]+)/;
/** The line the bench container prints (on both hosts): the guest's uptime when it ran. */
export const CONTAINER_OUTPUT_PATTERN = /CONTAINER-OUTPUT uptime_s=([\d.]+)/;
/**
 * The container's command on both hosts: prints the guest clock (/proc/uptime is not
 * namespaced). No '$' in it, so neither systemd nor a compose-style loader rewrites it.
 */
export const CONTAINER_COMMAND = ['/bin/sh', '-c', 'echo -n "CONTAINER-OUTPUT uptime_s="; cat /proc/uptime'];

const UNITS: Record<string, string> = {
  // The equivalent of berth's debug shell: a non-interactive root shell on serial 1, raw, no echo.
  'berth-bench-shell.service': `[Unit]
Description=bench shell on ttyS1
[Service]
ExecStartPre=/usr/bin/stty -F /dev/ttyS1 raw -echo
ExecStart=/bin/sh +i
Environment=PS1= PS2= TERM=dumb HOME=/root
StandardInput=tty-force
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS1
Restart=always
RestartSec=500ms
[Install]
WantedBy=multi-user.target
`,
  // The container a user would start at boot, as a plain unit (what quadlet generates, minus networking).
  'berth-bench-container.service': `[Unit]
Description=bench container
[Service]
Type=oneshot
ExecStart=/usr/bin/podman run --rm --network none --name bench --entrypoint ${CONTAINER_COMMAND[0] ?? ''} ${BENCH_IMAGE_REF} ${CONTAINER_COMMAND[1] ?? ''} '${CONTAINER_COMMAND[2] ?? ''}'
# journald forwards to the console: a file descriptor on /dev/ttyS0 would die (EIO) when the serial getty hangs the line up.
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
`,
  // Prints systemd's own view of the boot, then the ready marker with the uptime at "boot finished".
  'berth-bench-report.service': `[Unit]
Description=bench boot report
[Service]
Type=simple
ExecStart=/usr/local/sbin/berth-bench-report
[Install]
WantedBy=multi-user.target
`,
};

const REPORT_SCRIPT = `#!/bin/sh
# Waits until systemd considers boot finished, then prints its timing and the ready marker.
# /dev/console, not /dev/ttyS0: a hangup by the serial getty spares only the console's file.
systemctl is-system-running --wait >/dev/null 2>&1
read up _ </proc/uptime
{
  systemd-analyze time
  systemd-analyze critical-chain berth-bench-container.service
  systemd-analyze critical-chain
  echo "PEER-READY uptime_s=$up"
} >/dev/console 2>&1
`;

export interface PeerImage {
  dir: string;
  qcow2: string;
  /** Kernel package version inside the peer (same package as berth). */
  kernel: string;
  /** du -sb of the installed root tree. */
  treeBytes: number;
  /** The root tree as berth compresses its own (squashfs with ROOT_SQUASHFS_COMPRESSION). */
  squashfsBytes: number;
  /** The bench image, as an OCI layout and archive. */
  ociDir: string;
}

function sh(file: string, args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024, ...options, env: { ...process.env, MTOOLS_SKIP_CHECK: '1', ...options.env } });
}

/** The cache key: this module's code, the image module's code, berth's squashfs options, the kernel arguments, mmdebstrap's version. */
export function peerKey(repoRoot: string, kernelArgs: readonly string[]): string {
  const h = createHash('sha256');
  for (const file of ['scripts/bench/peer-image.ts', 'vm/src/oci-image.ts', '/usr/bin/busybox']) h.update(readFileSync(path.resolve(repoRoot, file)));
  h.update(JSON.stringify(ROOT_SQUASHFS_COMPRESSION));
  h.update(JSON.stringify(kernelArgs));
  h.update(sh('mmdebstrap', ['--version']));
  return h.digest('hex').slice(0, 16);
}

/** The peer's kernel command line: berth's console and verbosity arguments, plus its root. */
export function peerKernelArgs(berthKernelArgs: readonly string[]): string[] {
  return [...berthKernelArgs, `root=UUID=${PEER_ROOT_UUID}`, 'rw'];
}

/** Runs inside mmdebstrap's customize hook: units, fstab, the bench image in podman's store, a crun bundle. */
export async function customizePeerRoot(root: string, ociWork: string): Promise<void> {
  const image = await writeTestImage(path.join(ociWork, 'oci'));
  const archive = path.join(ociWork, 'berth-test.oci.tar');
  writeFileSync(archive, await ociArchive(image));
  const layerTar = path.join(ociWork, 'layer.tar');
  writeFileSync(layerTar, image.layer);
  writeFileSync(path.join(root, 'etc/hostname'), 'peer\n');
  // An installed system has its machine id (no first-boot setup on the measured boots).
  writeFileSync(path.join(root, 'etc/machine-id'), `${createHash('sha256').update('berth-bench-peer').digest('hex').slice(0, 32)}\n`);
  writeFileSync(path.join(root, 'etc/fstab'), `UUID=${PEER_ROOT_UUID} / ext4 defaults 0 1\n`);
  for (const [name, text] of Object.entries(UNITS)) {
    writeFileSync(path.join(root, 'etc/systemd/system', name), text);
    mkdirSync(path.join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
    sh('ln', ['-sf', `/etc/systemd/system/${name}`, path.join(root, 'etc/systemd/system/multi-user.target.wants', name)]);
  }
  mkdirSync(path.join(root, 'usr/local/sbin'), { recursive: true });
  writeFileSync(path.join(root, 'usr/local/sbin/berth-bench-report'), REPORT_SCRIPT);
  chmodSync(path.join(root, 'usr/local/sbin/berth-bench-report'), 0o755);
  // Preload: podman's own store, filled by podman itself at build time. Beside it, a bare OCI
  // bundle of the same image for `crun run` without podman (config from `crun spec`).
  sh('cp', [archive, path.join(root, 'tmp/berth-bench.oci.tar')]);
  const bundle = path.join(root, 'var/lib/berth-bench/bundle');
  mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  sh('tar', ['-xf', layerTar, '-C', path.join(bundle, 'rootfs')]);
  // containers/storage remounts "/" while unpacking, so the root must be a mount point: a
  // private mount namespace with the tree bind-mounted onto itself, plus /proc, /sys, /dev.
  sh('unshare', [
    '--mount',
    '--propagation',
    'private',
    '/bin/sh',
    '-c',
    'mount --rbind "$0" "$0" && mount -t proc proc "$0/proc" && mount -t tmpfs tmpfs "$0/run" && mount --rbind /sys "$0/sys" && mount --rbind /dev "$0/dev" ' +
      '&& chroot "$0" /usr/bin/podman load -q -i /tmp/berth-bench.oci.tar ' +
      `&& chroot "$0" /usr/bin/podman tag ${image.configDigest.slice('sha256:'.length)} ${BENCH_IMAGE_REF} ` +
      '&& chroot "$0" /bin/sh -c "cd /var/lib/berth-bench/bundle && crun spec"',
    root,
  ]);
  rmSync(path.join(root, 'tmp/berth-bench.oci.tar'));
  const spec = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[] }; root: { readonly: boolean } };
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  spec.root.readonly = true;
  writeFileSync(path.join(bundle, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`);
  sh('passwd', ['--root', root, '-d', 'root']);
}

/** Builds the peer image under `outRoot`/<key>/ unless it is already there; returns it. */
export function buildPeerImage(options: { repoRoot: string; outRoot: string; berthKernelArgs: readonly string[]; suite: string; log: (line: string) => void }): PeerImage {
  const kernelArgs = peerKernelArgs(options.berthKernelArgs);
  const key = peerKey(options.repoRoot, kernelArgs);
  const dir = path.join(options.outRoot, key);
  const manifestFile = path.join(dir, 'peer.json');
  if (existsSync(manifestFile)) {
    options.log(`peer image cached: ${dir}`);
    return JSON.parse(readFileSync(manifestFile, 'utf8')) as PeerImage;
  }
  const work = `${dir}.partial`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const root = path.join(work, 'root');
  const ociWork = path.join(work, 'image');
  options.log(`building the peer image in ${work} (mmdebstrap, once)`);
  const hook = `node --import tsx ${JSON.stringify(path.join(options.repoRoot, 'scripts/bench/peer-customize.ts'))} "$1" ${JSON.stringify(ociWork)}`;
  sh('nice', ['mmdebstrap', '--quiet', '--mode=root', '--variant=minbase', `--include=${PEER_PACKAGES.join(',')}`, `--customize-hook=${hook}`, options.suite, root], {
    cwd: options.repoRoot,
  });
  const kernel = readdirSync(path.join(root, 'boot')).find((f) => f.startsWith('vmlinuz-'))?.slice('vmlinuz-'.length);
  if (!kernel) throw new Error(`No kernel in ${root}/boot`);
  const treeBytes = Number(sh('du', ['-sb', root]).split(/\s/)[0]);
  const squashfs = path.join(work, 'root.squashfs');
  sh('nice', ['mksquashfs', root, squashfs, '-quiet', '-no-progress', '-noappend', ...ROOT_SQUASHFS_COMPRESSION, '-xattrs']);
  const squashfsBytes = statSync(squashfs).size;
  rmSync(squashfs);
  // ESP: systemd-boot and the peer's own kernel and initrd (made by initramfs-tools, as installed).
  const esp = path.join(work, 'esp.img');
  const espMiB = 128;
  sh('mkfs.vfat', ['-C', '-n', 'ESP', esp, String(espMiB * 1024)]);
  for (const d of ['EFI', 'EFI/BOOT', 'loader', 'loader/entries']) sh('mmd', ['-i', esp, `::/${d}`]);
  writeFileSync(path.join(work, 'loader.conf'), 'timeout 0\ndefault debian*\n');
  writeFileSync(path.join(work, 'debian.conf'), `title Debian\nlinux /vmlinuz\ninitrd /initrd.img\noptions ${kernelArgs.join(' ')}\n`);
  const put = (src: string, dest: string) => sh('mcopy', ['-i', esp, '-o', src, `::/${dest}`]);
  put('/usr/lib/systemd/boot/efi/systemd-bootx64.efi', 'EFI/BOOT/BOOTX64.EFI');
  put(path.join(root, 'boot', `vmlinuz-${kernel}`), 'vmlinuz');
  put(path.join(root, 'boot', `initrd.img-${kernel}`), 'initrd.img');
  put(path.join(work, 'loader.conf'), 'loader/loader.conf');
  put(path.join(work, 'debian.conf'), 'loader/entries/debian.conf');
  // Root: ext4 with room to spare, as an installer would leave it.
  const rootMiB = Math.ceil((treeBytes * 1.3) / 1048576) + 1024;
  const rootImg = path.join(work, 'root.ext4');
  sh('mkfs.ext4', ['-q', '-L', 'peer-root', '-U', PEER_ROOT_UUID, '-d', root, rootImg, `${rootMiB}M`]);
  const raw = path.join(work, 'disk.raw');
  sh('truncate', ['-s', `${1 + espMiB + rootMiB + 1}M`, raw]);
  sh('sfdisk', ['--quiet', raw], {
    input: `label: gpt\nstart=2048, size=${espMiB * 2048}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\nsize=${rootMiB * 2048}, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"\n`,
  });
  sh('dd', [`if=${esp}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
  sh('dd', [`if=${rootImg}`, `of=${raw}`, 'bs=1M', `seek=${1 + espMiB}`, 'conv=notrunc,sparse', 'status=none']);
  sh('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, path.join(work, 'disk.qcow2')]);
  for (const f of [raw, rootImg, esp]) rmSync(f);
  rmSync(root, { recursive: true, force: true });
  const image: PeerImage = { dir, qcow2: path.join(dir, 'disk.qcow2'), kernel, treeBytes, squashfsBytes, ociDir: path.join(dir, 'image') };
  writeFileSync(path.join(work, 'peer.json'), `${JSON.stringify(image, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  options.log(`peer image built: ${dir}`);
  return image;
}
