/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/api/host-routes.test.ts > TAP > config validate: every problem with its line, warnings apart > invalid config 1`] = `
Object {
  "problems": Array [
    Object {
      "column": 11,
      "line": 1,
      "message": "expected a host name (RFC 1123: letters, digits and inner hyphens; dot-separated labels of 1-63 characters) but got \\"bad_name!\\"",
      "path": "hostname",
    },
    Object {
      "column": 12,
      "line": 3,
      "message": "port 99999 is out of range (1-65535)",
      "path": "api.listen[0]",
    },
    Object {
      "column": 29,
      "line": 3,
      "message": "expected an address and port like \\"0.0.0.0:7443\\" or \\"[::]:7443\\" but got \\"host:1\\"",
      "path": "api.listen[1]",
    },
  ],
  "valid": false,
  "warnings": Array [],
}
`

exports[`init/test/unit/api/host-routes.test.ts > TAP > config validate: every problem with its line, warnings apart > TCP without client_ca, a key without its certificate 1`] = `
Array [
  Object {
    "column": 1,
    "line": 1,
    "message": "TCP listeners need client_ca: the CA that issues client certificates (make one with \`berth keys api ca\`)",
    "path": "api.client_ca",
  },
  Object {
    "column": 1,
    "line": 1,
    "message": "server_cert and server_key go together (leave both out to have a certificate made at first boot)",
    "path": "api.server_cert",
  },
]
`

exports[`init/test/unit/api/host-routes.test.ts > TAP > status: facts from the probe, null and a warning for a failed one > status body 1`] = `
Object {
  "boot_time": "2025-12-31T23:57:54.540Z",
  "cpu": null,
  "disks": Array [],
  "hostname": "h1",
  "init": null,
  "interfaces": Array [
    Object {
      "addresses": Array [
        "10.0.2.15/24",
      ],
      "mac": "m",
      "name": "eth0",
      "up": true,
    },
  ],
  "memory": Object {
    "available_bytes": 600,
    "total_bytes": 1000,
    "used_bytes": 400,
  },
  "slot": "b",
  "state": "running",
  "uptime_s": 3725.5,
  "version": "0.9.0",
  "warnings": Array [
    "cpu: lscpu not found",
  ],
}
`
