/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/journal.test.ts > TAP > journal text round-trips and is readable > must match snapshot 1`] = `
{
  "format": 1,
  "written_at": "2026-11-23T10:00:00.000Z",
  "state": {
    "current": {
      "phase": "staged",
      "target": {
        "version": "2.0.0",
        "bundleUrl": "http://x/m.json",
        "slot": "b",
        "from": {
          "slot": "a",
          "version": "1.0.0"
        }
      },
      "bootId": "boot-1"
    },
    "badVersions": [],
    "failures": 0
  }
}

`
