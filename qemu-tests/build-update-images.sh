#!/usr/bin/env bash
# Builds what qemu-tests/cases/update.test.ts needs, into out/update/ (one stage cache, so
# only the root image and disk stages run per version): a signing key, the busybox test
# image, versions 2.0.0 and 3.0.0 for their signed bundles (kept in out/update/bundles/),
# then 1.0.0 last, whose disk the test boots (and whose bundle is the downgrade case).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BERTH_UPDATE_DIR:-out/update}
mkdir -p "$OUT/bundles"
[ -f "$OUT/keys/berth-signing.key" ] || node bin/berth.js keys update-signing generate --out "$OUT/keys"
[ -f "$OUT/test-image/index.json" ] || npx tsx qemu-tests/harness/make-test-image.ts "$OUT/test-image"
for version in 2.0.0 3.0.0 1.0.0; do
  node bin/berth.js build qemu-tests/profiles/update.yaml --out "$OUT" --version "$version" --signing-key "$OUT/keys/berth-signing.key"
  rm -rf "$OUT/bundles/$version"
  cp -r "$OUT/qemu-update/bundle" "$OUT/bundles/$version"
done
