#!/usr/bin/env bash
# Builds what qemu-tests/cases/containers.test.ts needs: the busybox test image's OCI layout at
# out/test-images/berth-test (the path qemu-tests/profiles/containers.yaml preloads; the same
# bytes every time) and that profile's disk in <out>/qemu-containers/ (default out/, the test's
# default BERTH_CONTAINERS_IMAGE_DIR is out/qemu-containers). Stages are shared with the default
# profile's cache, so only the disk stage is new.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx qemu-tests/harness/make-test-image.ts out/test-images/berth-test
node bin/berth.js build qemu-tests/profiles/containers.yaml --out "${BERTH_CONTAINERS_OUT:-out}"
