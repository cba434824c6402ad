#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the demo image and boots it through `berth vm run`
# with the console attached (scripts/start.ts). The demo image is the container tests' image
# (qemu-tests/profiles/containers.yaml: the berth-test busybox image with httpd preloaded), so
# `npm test` builds nothing more for the npm start VM test and the stage cache serves both. `npm start -- --config FILE` boots your own config instead; the
# other arguments are those of `berth vm run`. BERTH_START_SKIP_BUILD=1 skips the install and
# build steps when the image is already built (the npm start VM test sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BERTH_START_SKIP_BUILD:-}" != 1 ]; then
  bash scripts/setup-host.sh
  npx tsx qemu-tests/harness/make-test-image.ts out/test-images/berth-test
  node bin/berth.js build qemu-tests/profiles/containers.yaml
fi
exec node --import tsx scripts/start.ts "$@"
