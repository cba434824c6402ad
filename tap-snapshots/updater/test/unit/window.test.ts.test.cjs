/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/window.test.ts > TAP > window validation lists every problem with its path > must match snapshot 1`] = `
Array [
  "update.window.days[1]: expected a day (sun, mon, tue, wed, thu, fri, sat or the full name) but got \\"funday\\"",
  "update.window.start: expected a local time \\"HH:MM\\" such as \\"02:00\\" but got \\"25:00\\"",
  "update.window.length: expected a duration like \\"10s\\", \\"1m30s\\" or \\"100ms\\" from 1m to 7d but got \\"forever\\"",
  "update.window.time_zone: expected an IANA time zone such as \\"Europe/Berlin\\" or \\"UTC\\" but got \\"Mars/Olympus\\"",
  "update.window.extra: unknown key (expected one of \\"days\\", \\"start\\", \\"length\\", \\"time_zone\\")",
]
`
