/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/config-plan.test.ts > TAP > containers created, removed and kept > summary 1`] = `
Array [
  "containers (applied now): create cache; remove sidecar",
]
`

exports[`init/test/unit/core/config-plan.test.ts > TAP > host settings applied live: time zone, new sysctl and module, NTP, static DNS > plan 1`] = `
Object {
  "changed": true,
  "containers": Array [
    Object {
      "action": "keep",
      "name": "db",
      "reasons": Array [],
    },
    Object {
      "action": "keep",
      "name": "web",
      "reasons": Array [],
    },
    Object {
      "action": "keep",
      "name": "sidecar",
      "reasons": Array [],
    },
  ],
  "reboot_required": false,
  "sections": Array [
    Object {
      "changes": Array [
        "~ dns.servers: 192.0.2.53 -> 192.0.2.54",
        "~ dns.search: (none) -> example.com",
      ],
      "effect": "live",
      "section": "network",
    },
    Object {
      "changes": Array [
        "servers: 192.0.2.1 -> 192.0.2.2, 192.0.2.3",
      ],
      "effect": "live",
      "section": "ntp",
    },
    Object {
      "changes": Array [
        "UTC -> Europe/Berlin",
      ],
      "effect": "live",
      "section": "time_zone",
    },
    Object {
      "changes": Array [
        "+ vm.swappiness=10",
      ],
      "effect": "live",
      "section": "sysctls",
    },
    Object {
      "changes": Array [
        "+ overlay",
      ],
      "effect": "live",
      "section": "kernel_modules",
    },
  ],
  "steps": Array [
    Object {
      "kind": "write-dns",
      "search": Array [
        "example.com",
      ],
      "servers": Array [
        "192.0.2.54",
      ],
    },
    Object {
      "kind": "restart-time-sync",
      "servers": Array [
        "192.0.2.2",
        "192.0.2.3",
      ],
    },
    Object {
      "kind": "set-time-zone",
      "zone": "Europe/Berlin",
    },
    Object {
      "kind": "set-sysctls",
      "sysctls": Object {
        "vm.swappiness": "10",
      },
    },
    Object {
      "kind": "load-kernel-modules",
      "modules": Array [
        "overlay",
      ],
    },
  ],
}
`

exports[`init/test/unit/core/config-plan.test.ts > TAP > hostname and one container environment: live, that container and its network sharer recreated > plan 1`] = `
Object {
  "changed": true,
  "containers": Array [
    Object {
      "action": "keep",
      "name": "db",
      "reasons": Array [],
    },
    Object {
      "action": "recreate",
      "name": "web",
      "reasons": Array [
        "environment",
      ],
    },
    Object {
      "action": "recreate",
      "name": "sidecar",
      "reasons": Array [
        "shares the network of web",
      ],
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
        "recreate sidecar (shares the network of web)",
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
        "sidecar",
      ],
      "remove": Array [],
    },
  ],
}
`

exports[`init/test/unit/core/config-plan.test.ts > TAP > hostname and one container environment: live, that container and its network sharer recreated > summary 1`] = `
Array [
  "hostname (applied now): web-1 -> web-2",
  "containers (applied now): recreate web (environment); recreate sidecar (shares the network of web)",
]
`

exports[`init/test/unit/core/config-plan.test.ts > TAP > what needs a reboot: removed sysctl and module, interfaces, DNS to DHCP, api, debug, update, bridge > sections 1`] = `
Array [
  Object {
    "changes": Array [
      "~ dns.servers: 192.0.2.53 -> (none)",
      "~ interfaces: (none) -> {\\"eth0\\":{\\"addresses\\":[\\"10.0.2.15/24\\"],\\"gateway\\":\\"10.0.2.2\\",\\"routes\\":[]}}",
    ],
    "effect": "reboot",
    "reason": "interfaces and the DHCP client are set up at boot",
    "section": "network",
  },
  Object {
    "changes": Array [
      "- net.ipv4.ip_forward",
    ],
    "effect": "reboot",
    "reason": "a removed sysctl (net.ipv4.ip_forward) keeps its value until the kernel's default comes back at the next boot",
    "section": "sysctls",
  },
  Object {
    "changes": Array [
      "- br_netfilter",
    ],
    "effect": "reboot",
    "reason": "a loaded module (br_netfilter) is not unloaded while the host runs",
    "section": "kernel_modules",
  },
  Object {
    "changes": Array [
      "~ shell: (none) -> ttyS1",
    ],
    "effect": "reboot",
    "reason": "the debug shell is started at boot",
    "section": "debug",
  },
  Object {
    "changes": Array [
      "~ subnet: 10.88.0.0/16 -> 10.99.0.0/16",
    ],
    "effect": "reboot",
    "reason": "the container bridge is set up before the first container starts",
    "section": "container_network",
  },
  Object {
    "changes": Array [
      "+ added",
    ],
    "effect": "reboot",
    "reason": "the update agent reads its settings when it starts",
    "section": "update",
  },
]
`

exports[`init/test/unit/core/config-plan.test.ts > TAP > what needs a reboot: removed sysctl and module, interfaces, DNS to DHCP, api, debug, update, bridge > summary 1`] = `
Array [
  "network (at next boot): ~ dns.servers: 192.0.2.53 -> (none); ~ interfaces: (none) -> {\\"eth0\\":{\\"addresses\\":[\\"10.0.2.15/24\\"],\\"gateway\\":\\"10.0.2.2\\",\\"routes\\":[]}}",
  "sysctls (at next boot): - net.ipv4.ip_forward",
  "kernel_modules (at next boot): - br_netfilter",
  "debug (at next boot): ~ shell: (none) -> ttyS1",
  "container_network (at next boot): ~ subnet: 10.88.0.0/16 -> 10.99.0.0/16",
  "update (at next boot): + added",
]
`
