#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the default image, and boots it in QEMU
# with the serial console attached to this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
node bin/berth.js build
exec node --import tsx scripts/start.ts "$@"
