/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`image-builder/test/unit/native.test.ts > TAP > native helpers: one static, warning-free, path-free gcc call per source > gcc argv 1`] = `
Array [
  "-static",
  "-Os",
  "-s",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-std=gnu11",
  "-ffile-prefix-map=/src/berth=.",
  "-Wl,--build-id=none",
  "-o",
  "/cache/native/k1/berth-pid1",
  "/src/berth/native/berth-pid1.c",
]
`
