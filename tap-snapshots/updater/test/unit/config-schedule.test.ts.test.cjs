/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/config-schedule.test.ts > TAP > every problem at once, with paths > must match snapshot 1`] = `
Array [
  "update.server: expected an http(s) URL of the directory written by berth publish but got \\"ftp://x\\"",
  "update.channel: expected a channel name such as \\"stable\\" (lowercase letters, digits, \\".\\", \\"_\\", \\"-\\") but got \\"Nightly!\\"",
  "update.check_interval: expected a duration like \\"10s\\", \\"1m30s\\" or \\"100ms\\" of at least 1m but got \\"10s\\"",
  "update.strategy: expected one of immediate, window, fleetlock, soak, manual, or a list of gates such as [window, fleetlock] but got \\"yolo\\"",
  "update.fleetlock.url: expected an http(s) URL of a FleetLock server but got \\"x\\"",
  "update.fleetlock.group: expected a FleetLock group (letters, digits, \\".\\" and \\"-\\") but got \\"a b\\"",
  "update.throttle.cpu: expected a share of one CPU from 1% to 10000%, such as \\"20%\\" but got \\"0%\\"",
  "update.soak: expected a duration like \\"10s\\", \\"1m30s\\" or \\"100ms\\" but got \\"long\\"",
  "update.allow_downgrade: expected a boolean (true or false) but got \\"no\\" (YAML 1.2 reads yes/no/on/off as strings)",
  "update.typo: unknown key",
]
`

exports[`updater/test/unit/config-schedule.test.ts > TAP > the issue example parses > must match snapshot 1`] = `
Object {
  "allowDowngrade": false,
  "channel": "stable",
  "checkIntervalMs": 3600000,
  "fleetlock": Object {
    "group": "default",
    "url": "https://lock.example.com/",
  },
  "gates": Array [
    "window",
    "fleetlock",
  ],
  "maxMetadataAgeMs": 259200000,
  "pin": Object {},
  "server": "https://updates.example.com/berth/",
  "soakMs": 120000,
  "strategy": "window+fleetlock",
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
