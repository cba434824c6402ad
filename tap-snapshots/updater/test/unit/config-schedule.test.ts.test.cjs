/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/config-schedule.test.ts > TAP > the issue example parses > must match snapshot 1`] = `
Object {
  "allowDowngrade": false,
  "channel": "stable",
  "checkIntervalMs": 3600000,
  "fleetlock": Object {
    "group": "default",
    "url": "https://lock.example.com/",
  },
  "server": "https://updates.example.com/berth/",
  "soakMs": 120000,
  "strategy": "immediate",
  "throttle": Object {
    "cpuPercent": 20,
    "memoryBytes": 268435456,
    "writeBps": 5242880,
    "writeIops": 500,
  },
  "window": Object {
    "days": Array [
      "sat",
      "sun",
    ],
    "lengthMs": 10800000,
    "startMinutes": 120,
    "timeZone": "Europe/Berlin",
  },
}
`
