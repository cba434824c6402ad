/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/bundle-manifest.test.ts > TAP > canonical form sorts keys at every level and has no whitespace > must match snapshot 1`] = `
{"architecture":"x86_64","channel":"stable","created":"2026-11-20T10:00:00.000Z","format":1,"min_version":"1.0.0","payload":{"initrd":{"path":"initrd.img","sha256":"2222222222222222222222222222222222222222222222222222222222222222","size":2000000},"kernel":{"path":"vmlinuz","sha256":"1111111111111111111111111111111111111111111111111111111111111111","size":12000000},"root":{"compression":"zstd","image_sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","image_size":409600000,"path":"root.erofs.zst","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":100000000},"verity":{"block_size":4096,"data_blocks":100000,"hash_start_block":100000,"path":"root.verity","root_hash":"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd","salt":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","sha256":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":3300000}},"version":"2.0.0"}
`

exports[`updater/test/unit/bundle-manifest.test.ts > TAP > validation reports every problem with its path > must match snapshot 1`] = `
Array [
  "format: expected 1",
  "version: expected a semantic version such as \\"2.1.0\\"",
  "payload.initrd: missing",
  "payload.root.compression: expected \\"zstd\\"",
  "payload.verity.root_hash: expected 64 lowercase hex digits (sha256 verity)",
  "payload.verity.hash_start_block: must not overlap the data blocks (>= data_blocks)",
  "payload.root.image_size: larger than payload.verity.data_blocks covers",
  "payload: file 'root.erofs.zst' is named by two entries",
]
`
