#!/usr/bin/env bash
# `npm run bench`: boot time and size figures of the default image, and container figures
# (start, memory, pull) and update figures (end-to-end time, apply throughput, HTTP p99 during
# a throttled update), each beside a floor measured in the same run. Not a test: it prints numbers, it asserts nothing about speed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
node bin/berth.js build
# The containers part boots the image with the container tests' busybox image preloaded (cached stages).
if [ -z "${BERTH_CONTAINERS_IMAGE_DIR:-}" ] && [ "${BERTH_BENCH_ONLY:-containers}" = containers ]; then
  node --import tsx qemu-tests/harness/make-test-image.ts >/dev/null
  node bin/berth.js build qemu-tests/profiles/containers.yaml
fi
# The update part boots 1.0.0 of the update test's images and updates it to the signed 2.0.0 bundle.
if [ -z "${BERTH_UPDATE_DIR:-}" ] && [ "${BERTH_BENCH_ONLY:-update}" = update ]; then
  BERTH_CACHE_DIR="${BERTH_CACHE_DIR:-out/cache}" bash qemu-tests/build-update-images.sh
fi
exec node --import tsx scripts/bench.ts "$@"
