/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/data-partition.test.ts > TAP > first boot on an enlarged disk: relocate GPT, grow, mkfs, mount > plan 1`] = `
Object {
  "grow": true,
  "kind": "first-boot",
  "steps": Array [
    Object {
      "args": Array [
        "--relocate",
        "gpt-bak-std",
        "/dev/vda",
      ],
      "file": "/usr/sbin/sfdisk",
      "kind": "exec",
      "purpose": "relocate-gpt",
    },
    Object {
      "args": Array [
        "--no-reread",
        "-N",
        "4",
        "/dev/vda",
      ],
      "file": "/usr/sbin/sfdisk",
      "input": ", +\\n",
      "kind": "exec",
      "purpose": "grow-partition",
    },
    Object {
      "args": Array [
        "-u",
        "--nr",
        "4",
        "/dev/vda",
      ],
      "file": "/usr/bin/partx",
      "kind": "exec",
      "purpose": "reread-partition",
    },
    Object {
      "args": Array [
        "-q",
        "-L",
        "berth-data",
        "/dev/vda4",
      ],
      "file": "/usr/sbin/mkfs.ext4",
      "kind": "exec",
      "purpose": "mkfs",
    },
    Object {
      "kind": "mount",
      "spec": Object {
        "createTarget": false,
        "fsType": "ext4",
        "options": Array [
          "noatime",
        ],
        "source": "/dev/vda4",
        "target": "/var",
      },
    },
  ],
}
`

exports[`init/test/unit/core/data-partition.test.ts > TAP > first boot on the disk as built: mkfs, mount > plan 1`] = `
Object {
  "grow": false,
  "kind": "first-boot",
  "steps": Array [
    Object {
      "args": Array [
        "-q",
        "-L",
        "berth-data",
        "/dev/vda4",
      ],
      "file": "/usr/sbin/mkfs.ext4",
      "kind": "exec",
      "purpose": "mkfs",
    },
    Object {
      "kind": "mount",
      "spec": Object {
        "createTarget": false,
        "fsType": "ext4",
        "options": Array [
          "noatime",
        ],
        "source": "/dev/vda4",
        "target": "/var",
      },
    },
  ],
}
`

exports[`init/test/unit/core/data-partition.test.ts > TAP > later boot, disk grew: fsck, grow, mount, online resize > plan 1`] = `
Object {
  "grow": true,
  "kind": "existing",
  "steps": Array [
    Object {
      "args": Array [
        "-p",
        "/dev/vda4",
      ],
      "file": "/usr/sbin/e2fsck",
      "kind": "fsck",
    },
    Object {
      "args": Array [
        "--relocate",
        "gpt-bak-std",
        "/dev/vda",
      ],
      "file": "/usr/sbin/sfdisk",
      "kind": "exec",
      "purpose": "relocate-gpt",
    },
    Object {
      "args": Array [
        "--no-reread",
        "-N",
        "4",
        "/dev/vda",
      ],
      "file": "/usr/sbin/sfdisk",
      "input": ", +\\n",
      "kind": "exec",
      "purpose": "grow-partition",
    },
    Object {
      "args": Array [
        "-u",
        "--nr",
        "4",
        "/dev/vda",
      ],
      "file": "/usr/bin/partx",
      "kind": "exec",
      "purpose": "reread-partition",
    },
    Object {
      "kind": "mount",
      "spec": Object {
        "createTarget": false,
        "fsType": "ext4",
        "options": Array [
          "noatime",
        ],
        "source": "/dev/vda4",
        "target": "/var",
      },
    },
    Object {
      "args": Array [
        "/dev/vda4",
      ],
      "file": "/usr/sbin/resize2fs",
      "kind": "exec",
      "purpose": "resize-fs",
    },
  ],
}
`

exports[`init/test/unit/core/data-partition.test.ts > TAP > later boot, same disk: fsck, mount > plan 1`] = `
Object {
  "grow": false,
  "kind": "existing",
  "steps": Array [
    Object {
      "args": Array [
        "-p",
        "/dev/vda4",
      ],
      "file": "/usr/sbin/e2fsck",
      "kind": "fsck",
    },
    Object {
      "kind": "mount",
      "spec": Object {
        "createTarget": false,
        "fsType": "ext4",
        "options": Array [
          "noatime",
        ],
        "source": "/dev/vda4",
        "target": "/var",
      },
    },
  ],
}
`
