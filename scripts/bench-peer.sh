#!/usr/bin/env bash
# `npm run bench:peer`: berth beside a stock Debian + systemd + podman host and the floor,
# measured in the same run under the same QEMU settings. Builds berth with the container tests'
# image preloaded (cached stages) unless BERTH_IMAGE_DIR points at a built one; builds the peer
# once per content hash under out/peer/ (BERTH_PEER_DIR overrides). Not a test: it prints
# numbers and writes SVGs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
# berth with the container tests' image preloaded (the same image the peer gets) into
# out/bench-peer/qemu-containers/ (its own dir: the test suite's images are not touched).
if [ -z "${BERTH_IMAGE_DIR:-}" ]; then
  node --import tsx qemu-tests/harness/make-test-image.ts >/dev/null
  BERTH_CACHE_DIR="${BERTH_CACHE_DIR:-out/cache}" node bin/berth.js build qemu-tests/profiles/containers.yaml --out out/bench-peer
  export BERTH_IMAGE_DIR=out/bench-peer/qemu-containers
fi
# The peer image build (mmdebstrap, once per content hash) runs before taking the VM lock.
node --import tsx scripts/bench-peer.ts --build-only
# One VM at a time on this machine, even across concurrent benches and test runs.
exec 9>"${BERTH_VM_LOCK:-/tmp/berth-vm.lock}"
flock 9
exec node --import tsx scripts/bench-peer.ts "$@"
