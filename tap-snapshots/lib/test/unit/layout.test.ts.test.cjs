/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`lib/test/unit/layout.test.ts > TAP > a rendered boot entry parses back to the same entry > must match snapshot 1`] = `
title berth 1.2.3 (slot b)
sort-key berth
version 7
linux /berth/b/vmlinuz
initrd /berth/b/initrd.img
options console=ttyS0,115200 panic=10 berth.slot=b berth.version=1.2.3 berth.roothash=abababababababababababababababababababababababababababababababab berth.verity=1000:1000:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd

`
