/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`qemu-tests/test/unit/qemu-argv.test.ts > TAP > argv of a test VM > full argv 1`] = `
Array [
  "-name",
  "berth-test-boot",
  "-machine",
  "q35",
  "-accel",
  "tcg",
  "-cpu",
  "max",
  "-m",
  "2048",
  "-smp",
  "2",
  "-nodefaults",
  "-display",
  "none",
  "-no-reboot",
  "-drive",
  "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
  "-drive",
  "if=pflash,format=raw,unit=1,file=/work/out/qemu-tests/boot/OVMF_VARS.fd",
  "-drive",
  "if=none,id=disk0,format=qcow2,file=/work/out/qemu-tests/boot/disk.qcow2",
  "-device",
  "virtio-blk-pci,drive=disk0,bootindex=0",
  "-chardev",
  "file,id=console,path=/work/out/qemu-tests/boot/console.log,append=on",
  "-serial",
  "chardev:console",
  "-chardev",
  "socket,id=shell,path=/work/out/qemu-tests/boot/shell.sock,server=on,wait=off",
  "-serial",
  "chardev:shell",
  "-chardev",
  "socket,id=qmp,path=/work/out/qemu-tests/boot/qmp.sock,server=on,wait=off",
  "-mon",
  "chardev=qmp,mode=control",
  "-netdev",
  "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:8022-:22,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:8080",
  "-device",
  "virtio-net-pci,netdev=n0",
  "-device",
  "virtio-rng-pci",
  "-fw_cfg",
  "name=opt/berth/config,file=/work/out/qemu-tests/boot/config.yaml",
]
`

exports[`qemu-tests/test/unit/qemu-argv.test.ts > TAP > qemu-img, qemu-io and probe argv > accelerator probe argv 1`] = `
Array [
  "-machine",
  "q35",
  "-accel",
  "kvm",
  "-cpu",
  "max",
  "-m",
  "256",
  "-nodefaults",
  "-display",
  "none",
  "-no-reboot",
  "-drive",
  "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
  "-drive",
  "if=pflash,format=raw,unit=1,file=/tmp/probe/vars.fd",
  "-chardev",
  "file,id=console,path=/tmp/probe/console.log",
  "-serial",
  "chardev:console",
  "-net",
  "none",
]
`
