/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`runtime/test/unit/monitor.test.ts > TAP > adoption decisions over state-file fixtures > must match snapshot 1`] = `
Object {
  "exited while init was down": Object {
    "exit": Object {
      "exitCode": 3,
      "finishedAt": "2026-01-02T03:04:05.000Z",
    },
    "kind": "apply-exit",
  },
  "exited while init was down, spec changed since": Object {
    "kind": "start",
  },
  "exited, no longer configured": Object {
    "kind": "ignore",
  },
  "live, no longer configured": Object {
    "kind": "stop",
  },
  "live, no spec stored": Object {
    "kind": "stop-then-start",
  },
  "live, same spec": Object {
    "kind": "adopt",
  },
  "live, spec changed": Object {
    "kind": "stop-then-start",
  },
  "nothing there": Object {
    "kind": "start",
  },
  "nothing there, not configured": Object {
    "kind": "ignore",
  },
}
`

exports[`runtime/test/unit/monitor.test.ts > TAP > argv: options, then the program after -- > must match snapshot 1`] = `
Array [
  "--state-dir",
  "/run/berth/containers/web/monitor",
  "--log",
  "/var/log/containers/web.log",
  "--max-size",
  "10485760",
  "--max-files",
  "3",
  "--cgroup",
  "/sys/fs/cgroup/berth.slice/monitors.scope",
  "--oom-score-adj",
  "0",
  "--",
  "/usr/bin/crun",
  "run",
  "web",
]
`
