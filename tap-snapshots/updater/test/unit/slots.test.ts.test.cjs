/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/slots.test.ts > TAP > staging plan: clear target entry, write, verify, ESP files, then the new entry > must match snapshot 1`] = `
Array [
  Object {
    "kind": "remove-entry",
    "path": "loader/entries/berth-b+0-3.conf",
    "slot": "b",
  },
  Object {
    "kind": "sync-esp",
  },
  Object {
    "hashTree": Object {
      "offset": 409600000,
      "path": "root.verity",
      "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
      "size": 3300000,
    },
    "image": Object {
      "compression": "zstd",
      "imageSha256": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      "imageSize": 409600000,
      "path": "root.erofs.zst",
      "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "size": 100000000,
    },
    "kind": "write-root",
    "partitionLabel": "root-b",
    "slot": "b",
  },
  Object {
    "blockSize": 4096,
    "dataBlocks": 100000,
    "hashTreeOffset": 409600000,
    "hashTreeSha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
    "hashTreeSize": 3300000,
    "imageSha256": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "imageSize": 409600000,
    "kind": "verify-root",
    "partitionLabel": "root-b",
    "rootHash": "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
    "salt": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
    "slot": "b",
  },
  Object {
    "kind": "install-file",
    "sha256": "1111111111111111111111111111111111111111111111111111111111111111",
    "size": 12000000,
    "source": "vmlinuz",
    "target": "berth/b/vmlinuz",
  },
  Object {
    "kind": "install-file",
    "sha256": "2222222222222222222222222222222222222222222222222222222222222222",
    "size": 2000000,
    "source": "initrd.img",
    "target": "berth/b/initrd.img",
  },
  Object {
    "kind": "sync-esp",
  },
  Object {
    "content": String(
      title berth 2.0.0 (slot b)
      sort-key berth
      version 5
      linux /berth/b/vmlinuz
      initrd /berth/b/initrd.img
      options console=ttyS0,115200 panic=10 berth.slot=b berth.version=2.0.0 berth.roothash=dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd berth.verity=100000:100000:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
      
    ),
    "kind": "write-entry",
    "path": "loader/entries/berth-b+3.conf",
    "slot": "b",
  },
  Object {
    "kind": "sync-esp",
  },
]
`
