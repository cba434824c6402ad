/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/config-apply.test.ts > TAP > host settings: time zone, sysctls, modules, NTP and DNS through the boot functions > applied steps 1`] = `
Array [
  Object {
    "detail": "time sync from 192.0.2.1",
    "ok": true,
    "step": "restart-time-sync",
  },
  Object {
    "detail": "time zone Europe/Berlin",
    "ok": true,
    "step": "set-time-zone",
  },
  Object {
    "detail": "sysctls vm.swappiness=10",
    "ok": true,
    "step": "set-sysctls",
  },
  Object {
    "detail": "kernel modules dummy",
    "ok": true,
    "step": "load-kernel-modules",
  },
]
`

exports[`init/test/unit/config-apply.test.ts > TAP > plan changes nothing and shows the plan, or every problem > plan answer 1`] = `
Object {
  "plan": Object {
    "changed": true,
    "containers": Array [
      Object {
        "action": "recreate",
        "name": "web",
        "reasons": Array [
          "environment",
        ],
      },
      Object {
        "action": "keep",
        "name": "db",
        "reasons": Array [],
      },
    ],
    "reboot_required": false,
    "sections": Array [
      Object {
        "changes": Array [
          "web-1 -> web-2",
        ],
        "effect": "live",
        "section": "hostname",
      },
      Object {
        "changes": Array [
          "recreate web (environment)",
        ],
        "effect": "live",
        "section": "containers",
      },
    ],
    "steps": Array [
      Object {
        "hostname": "web-2",
        "kind": "set-hostname",
      },
      Object {
        "create": Array [],
        "kind": "reconcile-containers",
        "recreate": Array [
          "web",
        ],
        "remove": Array [],
      },
    ],
  },
  "problems": Array [],
  "valid": true,
  "warnings": Array [],
}
`
