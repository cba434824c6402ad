#!/usr/bin/env bash
# Installs what berth's build and tests need on a Debian host, and only what is missing:
# Debian packages with apt-get, then the npm dependencies with `npm ci`. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  mmdebstrap            # root filesystem from Debian packages, no Docker
  squashfs-tools        # compressed read-only root (mksquashfs)
  erofs-utils           # the alternative root filesystem, kept for comparison
  cryptsetup-bin        # veritysetup: dm-verity hash tree
  fdisk                 # sfdisk: GPT on a disk image file
  dosfstools            # mkfs.vfat for the ESP image
  mtools                # copy into the ESP image without mounting it
  xorriso               # provisioning VM test: iso9660 config drive (labelled cidata)
  systemd-boot-efi      # the boot loader (boot counting, Type #1 entries)
  cpio zstd xz-utils binutils   # initramfs archive, module decompression, readelf
  busybox-static        # a static busybox for test container images and the bench floor
  qemu-system-x86 qemu-utils ovmf   # booting images in tests and `npm start`
  e2fsprogs bc socat   # socat: attach to a VM's debug shell socket
  bsdutils              # script: the vm-tool VM test runs `npm start` under a pty
  docker-registry skopeo   # container pull test: a registry on 127.0.0.1, images pushed with skopeo
  containernetworking-plugins iptables   # CNI integration test on the host (runs as root)
  attr                  # setfattr/getfattr: the layer unpacker's xattrs in the runtime tests
  kmod                  # modprobe: the CNI test loads br_netfilter on the host
  openssl               # the certificate tests check berth's X.509 output with openssl
  gcc libc6-dev         # the small static helpers in native/ (gcc -static)
  etcd-server           # the fleet tests and bench: a 3-member etcd cluster on loopback
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "berth: these Debian packages are missing: ${missing[*]}; run as root (or install them) and try again" >&2
    exit 1
  fi
  echo "berth: installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "berth: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
