#!/usr/bin/env bash
# The example, end to end: build the image with the berth-test container image preloaded,
# check the config offline, then boot it and run the checks (TAP on stdout, exit 0 when all pass).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f out/test-images/berth-test/index.json ] || npx tsx qemu-tests/harness/make-test-image.ts out/test-images/berth-test
node bin/berth.js build qemu-tests/profiles/containers.yaml
node bin/berth.js config validate examples/web/config.yaml
exec node bin/berth.js vm test examples/web/test.yaml
