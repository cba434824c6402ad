/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`image-builder/test/unit/plan.test.ts > TAP > disk plan: ESP, two equal root slots, data; 1 MiB aligned; stable UUIDs > sfdisk script 1`] = `
label: gpt
label-id: 52675482-802B-5D44-B3D0-E21399A17713
unit: sectors
first-lba: 2048

start=2048, size=262144, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=76F3D6D6-E74C-52BB-B2A8-338287916B27, name="esp"
start=264192, size=1048576, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=FEF07933-04D7-5D83-B09C-28585BEA6D55, name="root-a"
start=1312768, size=1048576, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=312E4F75-82FF-542A-88B8-476387EA6F76, name="root-b"
start=2361344, size=133120, type=4D21B016-B534-45C2-A9FB-5C16E091FD2D, uuid=17DD46D2-9EE7-5B4B-BB0B-67EA1E7820FD, name="data"

`

exports[`image-builder/test/unit/plan.test.ts > TAP > initial boot entries: both slots, slot a preferred, counters are added by the writer > entries 1`] = `
title berth 0.1.0 (slot a)
sort-key berth
version 2
linux /berth/a/vmlinuz
initrd /berth/a/initrd.img
options console=ttyS0,115200 berth.slot=a berth.version=0.1.0 berth.roothash=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa berth.verity=10:10:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
---
title berth 0.1.0 (slot b)
sort-key berth
version 1
linux /berth/b/vmlinuz
initrd /berth/b/initrd.img
options console=ttyS0,115200 berth.slot=b berth.version=0.1.0 berth.roothash=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa berth.verity=10:10:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb

`
