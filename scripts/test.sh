#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks, lints, runs the unit and integration
# tests, builds the default image once, and boots it under QEMU for the VM tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step prints how long the one before it took, so a slow CI run says where its time went
# (the whole suite is meant to stay under 45 minutes).
started=$SECONDS step_name="" step_started=$SECONDS
step_done() { [ -z "$step_name" ] || printf '== %s: %d s\n' "$step_name" $((SECONDS - step_started)); }
step() { step_done; step_name=$*; step_started=$SECONDS; printf '\n== %s\n' "$*"; }
summaries=()
run_tap() {
  local log
  log=$(mktemp)
  set +e
  npx tap "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  summaries+=("$(grep -a -E '^# \{ total: ' "$log" | tail -1)")
  rm -f "$log"
  return "$rc"
}

step "set-up (Debian packages, npm ci)"
bash scripts/setup-host.sh
step "type-check (tsc --noEmit)"
npx tsc --noEmit
step "lint (eslint)"
npx eslint .
step "unit and integration tests"
run_tap --jobs=2
step "build the images the VM tests boot (one shared stage cache)"
export BERTH_CACHE_DIR="$PWD/out/cache"
node bin/berth.js build
# The container tests' busybox image, preloaded onto the data partition of a second profile.
npx tsx qemu-tests/harness/make-test-image.ts out/test-images/berth-test
node bin/berth.js build qemu-tests/profiles/containers.yaml
# Versions 1.0.0 (booted), 2.0.0 and 3.0.0 (signed bundles) for the update tests.
bash qemu-tests/build-update-images.sh
step "VM tests under QEMU (one at a time)"
# One VM at a time on this machine, even across concurrent test runs: 2 cores under TCG.
exec 9>"${BERTH_VM_LOCK:-/tmp/berth-vm.lock}"
flock 9
run_tap --jobs=1 --timeout=900 qemu-tests/cases/*.test.ts
flock -u 9
step_done

passed=0 failed=0
for s in "${summaries[@]}"; do
  t=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$s"); p=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$s")
  passed=$((passed + ${p:-0})); failed=$((failed + ${t:-0} - ${p:-0}))
done
echo
echo "${passed} passed, ${failed} failed in $(( (SECONDS - started) / 60 )) min"
[ "$failed" -eq 0 ]
