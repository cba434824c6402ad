/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/network-plan.test.ts > TAP > static plan: ip argv for addresses, gateway and routes; listed interfaces only > static plan 1`] = `
Object {
  "dhcpInterfaces": Array [],
  "interfaces": Array [
    Object {
      "commands": Array [
        Array [
          "link",
          "set",
          "dev",
          "eth0",
          "mtu",
          "1400",
          "up",
        ],
        Array [
          "-4",
          "address",
          "replace",
          "10.0.2.50/24",
          "dev",
          "eth0",
        ],
        Array [
          "-6",
          "address",
          "replace",
          "fd00::5/64",
          "dev",
          "eth0",
        ],
        Array [
          "-4",
          "route",
          "replace",
          "default",
          "via",
          "10.0.2.2",
          "dev",
          "eth0",
        ],
        Array [
          "-4",
          "route",
          "replace",
          "192.168.0.0/16",
          "via",
          "10.0.2.1",
          "dev",
          "eth0",
          "metric",
          "50",
        ],
        Array [
          "-6",
          "route",
          "replace",
          "fd01::/48",
          "via",
          "fd00::1",
          "dev",
          "eth0",
        ],
        Array [
          "-6",
          "route",
          "replace",
          "default",
          "via",
          "fe80::1",
          "dev",
          "eth0",
        ],
      ],
      "dhcp": false,
      "name": "eth0",
    },
  ],
  "loopback": Array [
    "link",
    "set",
    "dev",
    "lo",
    "up",
  ],
  "missing": Array [
    "eth2",
  ],
  "resolvConf": String(
    # Written by berth init from the machine config (network.dns)
    nameserver 10.0.2.3
    search example.test
    
  ),
}
`
