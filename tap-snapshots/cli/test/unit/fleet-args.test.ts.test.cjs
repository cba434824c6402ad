/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`cli/test/unit/fleet-args.test.ts > TAP > the fleet view > must match snapshot 1`] = `
Hosts: 3 (1 reporting, 1 silent, 1 gone)

VERSION  HOSTS
1.0      1
1.1      1

PHASE      HOSTS
rebooting  1
succeeded  1

GROUP    HELD  SLOTS
default  1     2

HALTED  BY      SINCE                     REASON
1.2     policy  2026-12-04T20:00:00.000Z  2 hosts rolled back

Silent or gone: h2, h3

HOST  GROUP    VERSION  PHASE      TARGET  ROLLBACKS  STATE      SEEN  LAST ERROR
h1    default  1.1      succeeded  -       0          reporting  10s
h2    default  1.0      rebooting  1.1     0          silent     20m
h3    default  -        -          -       -          gone       25h

GROUP    HOST  TARGET  SINCE                     HELD FOR
default  h2    1.1     2026-12-04T20:59:30.000Z  30s

GROUP    SLOTS  HELD  SETTING
default  2      1     set
`
