/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/cgroup-plan.test.ts > TAP > berth.slice is capped below the host: memory.max and pids.max leave init its headroom > plan with caps 1`] = `
Array [
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+cpu",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+io",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+memory",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+pids",
  },
  Object {
    "kind": "mkdir",
    "path": "/sys/fs/cgroup/init.scope",
  },
  Object {
    "kind": "write",
    "optional": false,
    "path": "/sys/fs/cgroup/init.scope/cgroup.procs",
    "value": "1",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/init.scope/memory.max",
    "value": "469762048",
  },
  Object {
    "kind": "mkdir",
    "path": "/sys/fs/cgroup/berth.slice",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+cpu",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+io",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+memory",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+pids",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/memory.max",
    "value": "1879048192",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/pids.max",
    "value": "13738",
  },
]
`

exports[`init/test/unit/core/cgroup-plan.test.ts > TAP > plan with every controller available > plan 1`] = `
Array [
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+cpu",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+io",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+memory",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/cgroup.subtree_control",
    "value": "+pids",
  },
  Object {
    "kind": "mkdir",
    "path": "/sys/fs/cgroup/init.scope",
  },
  Object {
    "kind": "write",
    "optional": false,
    "path": "/sys/fs/cgroup/init.scope/cgroup.procs",
    "value": "2",
  },
  Object {
    "kind": "mkdir",
    "path": "/sys/fs/cgroup/berth.slice",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+cpu",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+io",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+memory",
  },
  Object {
    "kind": "write",
    "optional": true,
    "path": "/sys/fs/cgroup/berth.slice/cgroup.subtree_control",
    "value": "+pids",
  },
]
`
