/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/small-parts.test.ts > TAP > debug shell plan > ttyS1 1`] = `
Object {
  "device": "/dev/ttyS1",
  "env": Object {
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "PS1": "",
    "PS2": "",
    "TERM": "dumb",
  },
  "shell": "/bin/sh",
  "shellArgs": Array [
    "+i",
  ],
  "sttyArgs": Array [
    "-F",
    "/dev/ttyS1",
    "raw",
    "-echo",
  ],
}
`
