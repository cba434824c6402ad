/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`cli/test/unit/ctl-config-update.test.ts > TAP > argument parsing > actions and usage errors 1`] = `
Object {
  "config apply a.yaml b.yaml": "CLI_USAGE: Unexpected argument 'b.yaml' after berth ctl config apply a.yaml (see 'berth --help')",
  "config apply new.yaml --json": Object {
    "file": "new.yaml",
    "op": "config-apply",
  },
  "config apply new.yaml --timeout 60s": "CLI_USAGE: --timeout goes with berth ctl config try (see 'berth --help')",
  "config confirm": Object {
    "op": "config-confirm",
  },
  "config confirm now": "CLI_USAGE: Unexpected argument 'now' after berth ctl config confirm (see 'berth --help')",
  "config frobnicate": "CLI_USAGE: Unknown config command 'frobnicate': expected get, validate FILE, plan FILE, apply FILE, try FILE or confirm (see 'berth --help')",
  "config get": Object {
    "op": "config-get",
  },
  "config plan": "CLI_USAGE: berth ctl config plan needs a FILE (a machine config, YAML) (see 'berth --help')",
  "config plan new.yaml": Object {
    "file": "new.yaml",
    "op": "config-plan",
  },
  "config try --timeout=90s new.yaml": Object {
    "file": "new.yaml",
    "op": "config-try",
    "timeout": "90s",
  },
  "config try new.yaml": Object {
    "file": "new.yaml",
    "op": "config-try",
  },
  "config try new.yaml --timeout 2m": Object {
    "file": "new.yaml",
    "op": "config-try",
    "timeout": "2m",
  },
  "config try new.yaml --timeout 60": "CLI_USAGE: --timeout wants a duration like 60s or 5m, not '60' (see 'berth --help')",
  "config validate x.yaml": Object {
    "file": "x.yaml",
    "op": "config-validate",
  },
  "status --wait": "CLI_USAGE: --wait goes with berth ctl update apply (see 'berth --help')",
  "update": Object {
    "op": "update-status",
  },
  "update apply": Object {
    "op": "update-apply",
    "wait": false,
  },
  "update apply --wait": Object {
    "op": "update-apply",
    "wait": true,
  },
  "update approve": Object {
    "op": "update-approve",
  },
  "update check": Object {
    "op": "update-check",
  },
  "update check --wait": "CLI_USAGE: --wait goes with berth ctl update apply (see 'berth --help')",
  "update install": "CLI_USAGE: Unknown update command 'install': expected status, check, approve or apply (see 'berth --help')",
  "update status": Object {
    "op": "update-status",
  },
}
`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > apply report 1`] = `
warning: new.yaml:3:10: debug.shell: an unauthenticated root shell will run on /dev/ttyS1
done    hostname web-2
FAILED  containers recreated web: Containers failed to start: web
at next boot  kernel_modules: - br_netfilter
Saved new.yaml as the config for the next boot
Reboot to apply the rest (berth ctl reboot)

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > plan 1`] = `
hostname: applied now
    web-1 -> web-2
kernel_modules: at next boot (a loaded module (br_netfilter) is not unloaded while the host runs)
    - br_netfilter
containers: applied now
    db       unchanged
    web      recreate  (changed: environment)
    sidecar  recreate  (shares the network of web)
    cache    create
    old      remove
A reboot is needed for the changes marked "at next boot".

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > progress bar 1`] = `
downloading 2.0.0 download [#####...............]  25% 50.0 MiB/200.0 MiB
`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > try report 1`] = `
warning: new.yaml:3:10: debug.shell: an unauthenticated root shell will run on /dev/ttyS1
done    hostname web-2
at next boot  kernel_modules: - br_netfilter
Trying new.yaml until 2026-01-01T00:01:00.000Z: run 'berth ctl config confirm' to keep it, or it reverts

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > update status downloading 1`] = `
phase         downloading
running       1.0.0 (slot a)
target        2.0.0 (slot b)
strategy      window
download      25% (50.0 MiB of 200.0 MiB)
apply         requested: reboots as soon as the update is staged
bad versions  1.5.0

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > update status failed 1`] = `
phase         failed
running       1.0.0 (slot a)
target        2.0.0 (slot b)
strategy      window
bad versions  1.5.0
last error    Refusing manifest: bad signature [UPDATER_SIGNATURE_INVALID], 2 failures in a row

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > update status off 1`] = `
phase    off (no update: section in the machine config)
running  1.0.0 (slot a)

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > update status with a fleet halt 1`] = `
phase           staged
running         1.0.0 (slot a)
target          2.0.0 (slot b)
strategy        fleetlock
gate fleetlock  closed  2.0.0 halted by the fleet halt policy since 2026-12-05T08:00:00.000Z: 2 hosts rolled back (policy: halt at 2 failures; 2 took it); not rebooting into it (it is not marked bad), asking again every 5 min until 'berth fleet resume 2.0.0'
fleet halt      2.0.0 halted by the halt policy since 2026-12-05T08:00:00.000Z: 2 hosts rolled back (policy: halt at 2 failures; 2 took it) (not marked bad; goes on after berth fleet resume 2.0.0)
fleet reports   accepted (last 2026-12-05T08:01:00.000Z)
bad versions    1.5.0

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > update status with a Zincati-only FleetLock server 1`] = `
phase          downloading
running        1.0.0 (slot a)
target         2.0.0 (slot b)
strategy       window
fleet reports  off: the FleetLock server is not a berth coordinator (no /v1/report)
download       25% (50.0 MiB of 200.0 MiB)
apply          requested: reboots as soon as the update is staged
bad versions   1.5.0

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > output formatting > update status with gates 1`] = `
phase           staged
running         1.0.0 (slot a)
target          2.0.0 (slot b)
strategy        window+fleetlock+manual
gate window     closed  closed (Europe/Berlin); next opens 2026-11-28T01:00:00.000Z
gate fleetlock  closed  lock requested only once every other gate holds; next opens 2026-11-28T01:00:00.000Z
gate manual     holds   approved by an operator
gate pin        holds   2.0.0 fits pin 2.x
channel         2.0.0: update, wave 2 of 4, eligible 2026-11-20T14:37:00.000Z; metadata expires 2026-11-23T10:00:00.000Z
halted          1.9.0
bad versions    1.5.0

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > update apply --wait follows to the reboot > plain lines 1`] = `
Checking now
idle
checking
downloading 2.0.0 download   0% 0 B/1000 B
downloading 2.0.0 download  55% 550 B/1000 B
verifying 2.0.0 write 100% 3.9 KiB/3.9 KiB
rebooting 2.0.0
The host is rebooting into 2.0.0

`

exports[`cli/test/unit/ctl-config-update.test.ts > TAP > update apply --wait follows to the reboot > terminal bar (CR and ESC made visible) 1`] = `
Checking now
<CR><ESC>[2Kidle<CR><ESC>[2Kchecking<CR><ESC>[2Kdownloading 2.0.0 download [..............................]   0% 0 B/1000 B<CR><ESC>[2Kdownloading 2.0.0 download [#################.............]  55% 550 B/1000 B<CR><ESC>[2Kverifying 2.0.0 write [##############################] 100% 3.9 KiB/3.9 KiB<CR><ESC>[2Krebooting 2.0.0
The host is rebooting into 2.0.0

`
