/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`lib/test/unit/config-validate.test.ts > TAP > every problem at once, with positions, in one message > profile message 1`] = `
Invalid configuration image-builder/profiles/qemu.yaml (11 problems):
image-builder/profiles/qemu.yaml:1:10: version: expected a version like "1.2.3" but got 1.1 (put it in quotes to make it a string)
image-builder/profiles/qemu.yaml:2:8: suite: expected one of "trixie", "bookworm" but got "sid"
image-builder/profiles/qemu.yaml:4:3: kernel.flavor: unknown key (did you mean "flavour"?)
image-builder/profiles/qemu.yaml:7:5: packages[1]: expected a Debian package name but got "Bad_Name"
image-builder/profiles/qemu.yaml:8:5: packages[2]: expected a Debian package name but got 42 (put it in quotes to make it a string)
image-builder/profiles/qemu.yaml:10:12: node.version: expected a Node 24 version like "24.11.1" but got 24.11 (put it in quotes to make it a string)
image-builder/profiles/qemu.yaml:12:8: partitions.esp: expected a size like "256M" or "1G" (or a number of bytes) of at least 64M but got "16M"
image-builder/profiles/qemu.yaml:13:9: partitions.root: expected a size like "256M" or "1G" (or a number of bytes) but got "lots"
image-builder/profiles/qemu.yaml:14:3: partitions.swap: unknown key (expected one of "esp", "root", "data")
image-builder/profiles/qemu.yaml:16:12: boot.timeout: expected a duration like "10s", "1m30s" or "100ms" of at most 1m but got 5 (add a unit, e.g. "5s")
image-builder/profiles/qemu.yaml:17:1: extra: unknown key (expected one of "version", "suite", "kernel", "packages", "overlays", "node", "partitions", "boot")
`

exports[`lib/test/unit/config-validate.test.ts > TAP > machine-config style message: unknown keys, wrong types, nested records > container message 1`] = `
Invalid configuration fw_cfg:opt/berth/config (8 problems):
fw_cfg:opt/berth/config:4:14: containers.web.restart: expected one of "no", "always", "on-failure", "unless-stopped" but got "sometimes"
fw_cfg:opt/berth/config:7:9: containers.web.ports[1]: expected "HOST:CONTAINER[/tcp|udp]" but got 80 (put it in quotes to make it a string)
fw_cfg:opt/berth/config:8:9: containers.web.ports[2]: expected "HOST:CONTAINER[/tcp|udp]" but got "8443:443/sctp"
fw_cfg:opt/berth/config:11:10: containers.web.environment.B: expected a string, a number or a boolean (true or false) but got a sequence
fw_cfg:opt/berth/config:12:24: containers.web.stop_grace_period: expected a duration like "10s", "1m30s" or "100ms" but got 30 (add a unit, e.g. "30s")
fw_cfg:opt/berth/config:15:5: containers.web.healthcheck: unknown key (expected one of "image", "restart", "ports", "environment", "stop_grace_period", "mem_limit")
fw_cfg:opt/berth/config:16:3: containers.Worker: invalid key: expected a container name but got "Worker"
fw_cfg:opt/berth/config:16:3: containers.Worker: missing required key "image"
`
