#!/usr/bin/env bash
# Builds what scripts/fleet-vms.ts boots, into out/fleet-vms/ (one stage cache, so only the root
# image and disk stages run per version): a signing key, version 2.0.0 for its signed bundle
# (kept in out/fleet-vms/bundles/), then 1.0.0, whose disk the three VMs boot.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BERTH_FLEET_VMS_DIR:-out/fleet-vms}
mkdir -p "$OUT/bundles"
[ -f "$OUT/keys/berth-signing.key" ] || node bin/berth.js keys update-signing generate --out "$OUT/keys"
for version in 2.0.0 1.0.0; do
  node bin/berth.js build qemu-tests/profiles/fleet.yaml --out "$OUT" --version "$version" --signing-key "$OUT/keys/berth-signing.key"
  rm -rf "$OUT/bundles/$version"
  cp -r "$OUT/qemu-fleet/bundle" "$OUT/bundles/$version"
done
