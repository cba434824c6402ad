/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/shutdown-plan.test.ts > TAP > power-off plan on a fully booted machine > plan 1`] = `
Array [
  Object {
    "kind": "stop-debug-shell",
  },
  Object {
    "graceMs": 10000,
    "kind": "stop-services",
  },
  Object {
    "kind": "stop-daemons",
  },
  Object {
    "kind": "close-logs",
  },
  Object {
    "kind": "sync",
  },
  Object {
    "kind": "unmount",
    "onBusy": "lazy",
    "target": "/etc",
  },
  Object {
    "kind": "unmount",
    "onBusy": "lazy",
    "target": "/var/lib/berth/containers/web/rootfs",
  },
  Object {
    "kind": "unmount",
    "onBusy": "remount-ro",
    "target": "/var",
  },
  Object {
    "kind": "unmount",
    "onBusy": "remount-ro",
    "target": "/efi",
  },
  Object {
    "action": "poweroff",
    "kind": "log-complete",
  },
  Object {
    "action": "poweroff",
    "kind": "power",
  },
]
`
