#!/usr/bin/env bash
# `npm run bench`: boot time and size figures of the default image, and container figures
# (start, memory, pull), each beside a floor measured in the same run. Not a test: it prints numbers, it asserts nothing about speed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
node bin/berth.js build
# The containers part boots the image with the container tests' busybox image preloaded (cached stages).
if [ -z "${BERTH_CONTAINERS_IMAGE_DIR:-}" ] && [ "${BERTH_BENCH_ONLY:-containers}" = containers ]; then
  node --import tsx qemu-tests/harness/make-test-image.ts >/dev/null
  node bin/berth.js build qemu-tests/profiles/containers.yaml
fi
exec node --import tsx scripts/bench.ts "$@"
