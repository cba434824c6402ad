/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`lib/test/unit/config-machine.test.ts > TAP > every problem is reported at once, in source order > message 1`] = `
Invalid configuration config.yaml (4 problems):
config.yaml:1:11: hostname: expected a host name (RFC 1123: letters, digits and inner hyphens; dot-separated labels of 1-63 characters) but got "-bad-"
config.yaml:2:1: debugg: unknown key (did you mean "debug"?)
config.yaml:4:10: debug.shell: expected a serial device name like "ttyS1" or "hvc0" (without /dev/) but got "/dev/ttyS1"
config.yaml:5:3: debug.verbose: unknown key (expected one of "shell")
`
