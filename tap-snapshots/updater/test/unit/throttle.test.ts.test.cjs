/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/throttle.test.ts > TAP > the issue example becomes the documented cgroup lines > must match snapshot 1`] = `
Array [
  Object {
    "kind": "write",
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+cpu +io +memory",
  },
  Object {
    "kind": "mkdir",
    "path": "/sys/fs/cgroup/berth.slice",
  },
  Object {
    "kind": "write",
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+cpu +io +memory",
  },
  Object {
    "kind": "mkdir",
    "path": "/sys/fs/cgroup/berth.slice/update-apply",
  },
  Object {
    "kind": "write",
    "path": "/sys/fs/cgroup/berth.slice/update-apply/io.max",
    "value": "253:0 wbps=5242880 wiops=500",
  },
  Object {
    "kind": "write",
    "path": "/sys/fs/cgroup/berth.slice/update-apply/cpu.max",
    "value": "20000 100000",
  },
  Object {
    "kind": "write",
    "path": "/sys/fs/cgroup/berth.slice/update-apply/memory.max",
    "value": "268435456",
  },
]
`

exports[`updater/test/unit/throttle.test.ts > TAP > throttle validation lists every problem with its path > must match snapshot 1`] = `
Array [
  "update.throttle.write_bps: expected a size like \\"256M\\" or \\"1G\\" (or a number of bytes) of at least 1 but got \\"fast\\"",
  "update.throttle.write_iops: expected an integer of at least 1 but got 1.5",
  "update.throttle.cpu: expected a share of one CPU from 1% to 10000%, such as \\"20%\\" but got \\"0.5%\\"",
  "update.throttle.memory: expected a size like \\"256M\\" or \\"1G\\" (or a number of bytes) of at least 16M but got \\"1M\\"",
  "update.throttle.read_bps: unknown key (expected one of \\"write_bps\\", \\"write_iops\\", \\"cpu\\", \\"memory\\", \\"download_bps\\")",
]
`
