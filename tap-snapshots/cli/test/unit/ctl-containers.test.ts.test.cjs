/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`cli/test/unit/ctl-containers.test.ts > TAP > argument parsing > actions and usage errors 1`] = `
Object {
  "--json logs web --tail=0": Object {
    "follow": false,
    "name": "web",
    "op": "container-logs",
    "tail": 0,
  },
  "containers --json": Object {
    "op": "ps",
  },
  "exec -- ls": "CLI_USAGE: berth ctl exec needs a container NAME, then -- and the command: exec web -- ls -l / (see 'berth --help')",
  "exec web": "CLI_USAGE: berth ctl exec web needs the command after --: exec web -- CMD [ARG...] (see 'berth --help')",
  "exec web -- sh -c echo hi; exit 3": Object {
    "argv": Array [
      "sh",
      "-c",
      "echo hi; exit 3",
    ],
    "name": "web",
    "op": "exec",
  },
  "exec web --json -- ls --color -l": Object {
    "argv": Array [
      "ls",
      "--color",
      "-l",
    ],
    "name": "web",
    "op": "exec",
  },
  "exec web ls": "CLI_USAGE: Put the command after --: berth ctl exec web -- ls (see 'berth --help')",
  "images": Object {
    "op": "images",
  },
  "images all": "CLI_USAGE: Unexpected argument 'all' after berth ctl images (see 'berth --help')",
  "inspect": "CLI_USAGE: berth ctl inspect needs a container NAME (berth ctl ps lists them) (see 'berth --help')",
  "inspect web": Object {
    "name": "web",
    "op": "inspect",
  },
  "inspect web extra": "CLI_USAGE: Unexpected argument 'extra' after berth ctl inspect web (see 'berth --help')",
  "logs --tail 5": Object {
    "follow": false,
    "op": "logs",
    "tail": 5,
  },
  "logs web": Object {
    "follow": false,
    "name": "web",
    "op": "container-logs",
  },
  "logs web -f --tail 20": Object {
    "follow": true,
    "name": "web",
    "op": "container-logs",
    "tail": 20,
  },
  "logs web db": "CLI_USAGE: Unexpected argument 'db' after berth ctl logs web (see 'berth --help')",
  "prune": Object {
    "op": "prune",
  },
  "prune --tail 1": "CLI_USAGE: --tail goes with berth ctl logs (see 'berth --help')",
  "ps": Object {
    "op": "ps",
  },
  "ps -- x": "CLI_USAGE: '--' goes with berth ctl exec NAME -- CMD... (see 'berth --help')",
  "pull": "CLI_USAGE: berth ctl pull needs an image reference, like registry.example:5000/app:1.0 (see 'berth --help')",
  "pull 127.0.0.1:5000/test/web:1": Object {
    "op": "pull",
    "reference": "127.0.0.1:5000/test/web:1",
  },
  "restart web": Object {
    "name": "web",
    "op": "restart",
  },
  "rmi": "CLI_USAGE: berth ctl rmi needs an image reference (berth ctl images lists them) (see 'berth --help')",
  "rmi docker.io/library/busybox:latest": Object {
    "op": "rmi",
    "reference": "docker.io/library/busybox:latest",
  },
  "start": "CLI_USAGE: berth ctl start needs a container NAME (berth ctl ps lists them) (see 'berth --help')",
  "start web": Object {
    "name": "web",
    "op": "start",
  },
  "status -- x": "CLI_USAGE: '--' goes with berth ctl exec NAME -- CMD... (see 'berth --help')",
  "stop web": Object {
    "name": "web",
    "op": "stop",
  },
  "stop web -f": "CLI_USAGE: --follow goes with berth ctl logs (see 'berth --help')",
}
`

exports[`cli/test/unit/ctl-containers.test.ts > TAP > exit codes and output against a fake API > pull on a terminal: one line redrawn 1`] = `
<CR><ESC>[2K127.0.0.1:5000/test/web:1 [##############################] 100% 500 B/500 B 1/1 blobs<CR><ESC>[2K127.0.0.1:5000/test/web:1 [..............................]   0% 500 B/1.0 MiB 1/2 blobs<CR><ESC>[2K127.0.0.1:5000/test/web:1 [###############...............]  50% 512.5 KiB/1.0 MiB 1/2 blobs<CR><ESC>[2K127.0.0.1:5000/test/web:1 [##############################] 100% 1.0 MiB/1.0 MiB 2/2 blobs
Pulled 127.0.0.1:5000/test/web:1 (efefefefefef, 2.0 KiB)

`

exports[`cli/test/unit/ctl-containers.test.ts > TAP > exit codes and output against a fake API > pull, not a terminal: a line per blob start and end 1`] = `
config c1: already held (500 B)
layer l1: downloading 1.0 MiB
layer l1: done (1.0 MiB)
Pulled 127.0.0.1:5000/test/web:1 (efefefefefef, 2.0 KiB)

`

exports[`cli/test/unit/ctl-containers.test.ts > TAP > output formatting > images table 1`] = `
REFERENCE                                        DIGEST        SIZE     CREATED               USED BY
docker.io/library/berth-test:latest (preloaded)  abababababab  1.2 MiB  2026-01-01T00:00:00Z  web,worker
127.0.0.1:5000/test/web:1                        efefefefefef  2.0 KiB  -                     -

`

exports[`cli/test/unit/ctl-containers.test.ts > TAP > output formatting > inspect 1`] = `
Name      web (critical)
Image     berth-test
State     running
Health    healthy
Pid       412
Started   2026-01-01T00:58:55.000Z (up 1m 5s)
Restarts  0
Network   host
Ports     -
Config:
  image: berth-test
  network_mode: host
  restart: 'no'
  environment:
    A: '1'

`

exports[`cli/test/unit/ctl-containers.test.ts > TAP > output formatting > progress bar 1`] = `
127.0.0.1:5000/test/web:1 [##########..........]  47% 977.1 KiB/2.0 MiB 1/2 blobs
`

exports[`cli/test/unit/ctl-containers.test.ts > TAP > output formatting > prune summary 1`] = `
Pruned: removed 127.0.0.1:5000/test/web:1; 3 blobs and 1 layer deleted, 1.5 MiB freed

`

exports[`cli/test/unit/ctl-containers.test.ts > TAP > output formatting > ps table 1`] = `
NAME    IMAGE       STATE           HEALTH   RESTARTS  UP     PORTS      ADDRESS
web*    berth-test  running         healthy  0         1m 5s  -          host
worker  berth-test  restarting (3)  -        4         -      -          none
pub     berth-test  running         -        0         1m 5s  8081:8080  10.88.0.2
after   berth-test  stopped         -        0         -      -          none
* critical: the boot is judged by it

`
