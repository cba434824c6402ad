/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`cli/test/unit/ctl.test.ts > TAP > ctl argument parsing > must match snapshot 1`] = `
Object {
  "ctl": "CLI_USAGE: berth ctl needs a command: status, logs, config get, config validate FILE, config plan|apply|try FILE, config confirm, update status|check|approve|apply, reboot, poweroff, ps, inspect NAME, logs NAME, start|stop|restart NAME, exec NAME -- CMD..., images, pull REF, rmi REF, prune (see 'berth --help')",
  "ctl --cert c.crt status": "CLI_USAGE: --cert, --key, --ca and --server-sha256 are for https:// hosts; the Unix socket needs none (see 'berth --help')",
  "ctl --host http://192.0.2.10:7443 status": "CLI_USAGE: --host 'http://192.0.2.10:7443': the API is served over https:// (mutual TLS) or a unix:// socket, not http: (see 'berth --help')",
  "ctl --host https://[fd00::1]:8443 --cert c.crt --key c.key --server-sha256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB status": Object {
    "action": Object {
      "op": "status",
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "certFile": "c.crt",
      "host": "fd00::1",
      "keyFile": "c.key",
      "kind": "https",
      "port": 8443,
      "serverSha256": "abababababababababababababababababababababababababababababababab",
    },
  },
  "ctl --host https://192.0.2.10 --cert c --key k --ca ca --server-sha256 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa status": "CLI_USAGE: Give one way to check the server: --ca FILE (the CA of its certificate) or --server-sha256 HEX (its fingerprint) (see 'berth --help')",
  "ctl --host https://192.0.2.10 --cert c --key k status": "CLI_USAGE: Give one way to check the server: --ca FILE (the CA of its certificate) or --server-sha256 HEX (its fingerprint) (see 'berth --help')",
  "ctl --host https://192.0.2.10 --cert c.crt --key c.key --ca ca.crt status": Object {
    "action": Object {
      "op": "status",
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "caFile": "ca.crt",
      "certFile": "c.crt",
      "host": "192.0.2.10",
      "keyFile": "c.key",
      "kind": "https",
      "port": 7443,
    },
  },
  "ctl --host https://192.0.2.10 status": "CLI_USAGE: https://192.0.2.10 needs a client certificate: --cert FILE --key FILE (make them with 'berth keys api client') (see 'berth --help')",
  "ctl --host https://192.0.2.10/v1 --cert c --key k --ca ca status": "CLI_USAGE: --host 'https://192.0.2.10/v1': give only the address and port, like https://192.0.2.10:7443 (see 'berth --help')",
  "ctl --host unix://relative.sock status": "CLI_USAGE: --host unix://relative.sock: a Unix socket needs an absolute path, like unix:///run/berth/api.sock (see 'berth --help')",
  "ctl --json logs -f --tail 50": Object {
    "action": Object {
      "follow": true,
      "op": "logs",
      "tail": 50,
    },
    "json": true,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/run/berth/api.sock",
    },
  },
  "ctl --server-sha256 xyz status": "CLI_USAGE: --server-sha256 wants the 64 hex digits of a SHA-256 fingerprint, not 'xyz' (see 'berth --help')",
  "ctl config": "CLI_USAGE: berth ctl config needs get, validate FILE, plan FILE, apply FILE, try FILE or confirm (see 'berth --help')",
  "ctl config get": Object {
    "action": Object {
      "op": "config-get",
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/run/berth/api.sock",
    },
  },
  "ctl config set x": "CLI_USAGE: Unknown config command 'set': expected get, validate FILE, plan FILE, apply FILE, try FILE or confirm (see 'berth --help')",
  "ctl config validate": "CLI_USAGE: berth ctl config validate needs a FILE (a machine config, YAML) (see 'berth --help')",
  "ctl config validate machine.yaml": Object {
    "action": Object {
      "file": "machine.yaml",
      "op": "config-validate",
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/run/berth/api.sock",
    },
  },
  "ctl logs --tail": "CLI_USAGE: --tail needs a value (see 'berth --help')",
  "ctl logs --tail -1": "CLI_USAGE: --tail needs a value (see 'berth --help')",
  "ctl logs --tail=0": Object {
    "action": Object {
      "follow": false,
      "op": "logs",
      "tail": 0,
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/run/berth/api.sock",
    },
  },
  "ctl poweroff --host unix:///tmp/api.sock": Object {
    "action": Object {
      "op": "poweroff",
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/tmp/api.sock",
    },
  },
  "ctl reboot": Object {
    "action": Object {
      "op": "reboot",
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/run/berth/api.sock",
    },
  },
  "ctl stats": "CLI_USAGE: Unknown ctl command 'stats': expected one of status, logs, config get, config validate FILE, config plan|apply|try FILE, config confirm, update status|check|approve|apply, reboot, poweroff, ps, inspect NAME, logs NAME, start|stop|restart NAME, exec NAME -- CMD..., images, pull REF, rmi REF, prune (see 'berth --help')",
  "ctl status": Object {
    "action": Object {
      "op": "status",
    },
    "json": false,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/run/berth/api.sock",
    },
  },
  "ctl status --follow": "CLI_USAGE: --follow goes with berth ctl logs (see 'berth --help')",
  "ctl status --json": Object {
    "action": Object {
      "op": "status",
    },
    "json": true,
    "kind": "ctl",
    "target": Object {
      "kind": "unix",
      "socketPath": "/run/berth/api.sock",
    },
  },
  "ctl status --verbose": "CLI_USAGE: Unknown option '--verbose' for berth ctl (see 'berth --help')",
  "ctl status now": "CLI_USAGE: Unexpected argument 'now' after berth ctl status (see 'berth --help')",
}
`

exports[`cli/test/unit/ctl.test.ts > TAP > exit codes and output against a fake API > config get as YAML 1`] = `
# machine config in force (origin fw_cfg, source fw_cfg:opt/berth/config)
hostname: h
api:
  listen: []

`

exports[`cli/test/unit/ctl.test.ts > TAP > output formatting > config validation 1`] = `
machine.yaml is not a valid machine config (2 problems):
  machine.yaml:1:11: hostname: expected a host name
  machine.yaml: whole document
  warning: machine.yaml:4:10: debug.shell: an unauthenticated root shell will run on /dev/ttyS1

`

exports[`cli/test/unit/ctl.test.ts > TAP > output formatting > status of a restarted init 1`] = `
Host     berth (running)
Version  0.1.0 on slot a
Booted   2026-11-23T10:00:00.000Z (up 1d 2h 3m)
Init     pid 95, RSS 58.2 MiB, restarted 2 times (last: heap-exhausted)
CPU      QEMU Virtual CPU version 2.5+, 2 cores, load 3.4% (0.12 0.05 0)
Memory   178.7 MiB used of 1.9 GiB (1.8 GiB available)

MOUNT  DEVICE            FS     SIZE       USED
/      /dev/mapper/root  erofs  100.0 MiB  100.0 MiB (100%)
/var   /dev/vda4         ext4   7.8 GiB    58.5 MiB (1%)

INTERFACE  STATE  MAC                ADDRESSES
eth0       up     52:54:00:12:34:56  10.0.2.15/24, fec0::5054:ff:fe12:3456/64
eth1       down   52:54:00:12:34:57  -

`

exports[`cli/test/unit/ctl.test.ts > TAP > output formatting > status table 1`] = `
Host     berth (running)
Version  0.1.0 on slot a
Booted   2026-11-23T10:00:00.000Z (up 1d 2h 3m)
Init     pid 412, RSS 80.1 MiB, never restarted
CPU      QEMU Virtual CPU version 2.5+, 2 cores, load 3.4% (0.12 0.05 0)
Memory   178.7 MiB used of 1.9 GiB (1.8 GiB available)

MOUNT  DEVICE            FS     SIZE       USED
/      /dev/mapper/root  erofs  100.0 MiB  100.0 MiB (100%)
/var   /dev/vda4         ext4   7.8 GiB    58.5 MiB (1%)

INTERFACE  STATE  MAC                ADDRESSES
eth0       up     52:54:00:12:34:56  10.0.2.15/24, fec0::5054:ff:fe12:3456/64
eth1       down   52:54:00:12:34:57  -

`

exports[`cli/test/unit/ctl.test.ts > TAP > output formatting > status with missing facts 1`] = `
Host     berth (running)
Version  0.1.0 on slot a
Booted   (unknown)
Init     pid 412, RSS 80.1 MiB, never restarted
CPU      (unknown)
Memory   178.7 MiB used of 1.9 GiB (1.8 GiB available)

Warning: cpu: lscpu took longer than 5000 ms

`
