#!/usr/bin/env bash
# `npm run bench`: boot time and size figures of the default image beside a floor measured
# in the same run. Not a test: it prints numbers, it asserts nothing about speed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
node bin/berth.js build
exec node --import tsx scripts/bench.ts "$@"
