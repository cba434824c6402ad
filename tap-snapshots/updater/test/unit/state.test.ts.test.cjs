/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/state.test.ts > TAP > every legal path from idle to a final phase > must match snapshot 1`] = `
path 1:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --reboot-allowed--> rebooting(update)  [{"type":"reboot"}]
rebooting(update) --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --health-passed--> succeeded  [{"type":"bless-slot","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 2:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --reboot-allowed--> rebooting(update)  [{"type":"reboot"}]
rebooting(update) --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --health-failed--> rebooting(health-failed)  [{"type":"mark-slot-bad","slot":"b"}, {"type":"reboot"}]
rebooting(health-failed) --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 3:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --reboot-allowed--> rebooting(update)  [{"type":"reboot"}]
rebooting(update) --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 4:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --reboot-allowed--> rebooting(update)  [{"type":"reboot"}]
rebooting(update) --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 5:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --health-passed--> succeeded  [{"type":"bless-slot","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 6:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --health-failed--> rebooting(health-failed)  [{"type":"mark-slot-bad","slot":"b"}, {"type":"reboot"}]
rebooting(health-failed) --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 7:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 8:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --stage-finished--> staged  [{"type":"await-reboot-permission"}]
staged --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 9:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --error--> failed  [{"type":"clear-slot-entry","slot":"b"}, {"type":"discard-download"}, {"type":"schedule-check","after":"retry","attempt":1}]

path 10:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --health-passed--> succeeded  [{"type":"bless-slot","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 11:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --health-failed--> rebooting(health-failed)  [{"type":"mark-slot-bad","slot":"b"}, {"type":"reboot"}]
rebooting(health-failed) --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 12:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --download-finished--> verifying  [{"type":"verify-and-stage","version":"2.0.0","slot":"b"}]
verifying --agent-started(new boot, new slot)--> confirming  [{"type":"start-health-gate","slot":"b","version":"2.0.0"}]
confirming --agent-started(new boot, old slot)--> rolled-back  [{"type":"clear-slot-entry","slot":"b"}, {"type":"release-reboot-lock"}, {"type":"discard-download"}, {"type":"schedule-check","after":"interval","attempt":0}]

path 13:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --error--> failed  [{"type":"discard-download"}, {"type":"schedule-check","after":"retry","attempt":1}]

path 14:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --check-found-update--> downloading  [{"type":"download-bundle","version":"2.0.0","bundleUrl":"http://127.0.0.1/b/2.0.0/manifest.json"}]
downloading --agent-started(new boot, new slot)--> failed  [{"type":"discard-download"}, {"type":"schedule-check","after":"retry","attempt":1}]

path 15:
idle --check-requested--> checking  [{"type":"fetch-channel"}]
checking --error--> failed  [{"type":"schedule-check","after":"retry","attempt":1}]
`

exports[`updater/test/unit/state.test.ts > TAP > transition table: every phase against every event > must match snapshot 1`] = `
idle + check-requested => checking
idle + check-no-update => ILLEGAL
idle + check-found-update => ILLEGAL
idle + download-finished => ILLEGAL
idle + stage-finished => ILLEGAL
idle + reboot-allowed => ILLEGAL
idle + health-passed => ILLEGAL
idle + health-failed => ILLEGAL
idle + error => ILLEGAL
idle + agent-started(same boot) => idle
idle + agent-started(new boot, new slot) => idle
idle + agent-started(new boot, old slot) => idle
checking + check-requested => ILLEGAL
checking + check-no-update => idle
checking + check-found-update => downloading
checking + download-finished => ILLEGAL
checking + stage-finished => ILLEGAL
checking + reboot-allowed => ILLEGAL
checking + health-passed => ILLEGAL
checking + health-failed => ILLEGAL
checking + error => failed
checking + agent-started(same boot) => checking
checking + agent-started(new boot, new slot) => checking
checking + agent-started(new boot, old slot) => checking
downloading + check-requested => ILLEGAL
downloading + check-no-update => ILLEGAL
downloading + check-found-update => ILLEGAL
downloading + download-finished => verifying
downloading + stage-finished => ILLEGAL
downloading + reboot-allowed => ILLEGAL
downloading + health-passed => ILLEGAL
downloading + health-failed => ILLEGAL
downloading + error => failed
downloading + agent-started(same boot) => downloading
downloading + agent-started(new boot, new slot) => failed
downloading + agent-started(new boot, old slot) => downloading
failed + check-requested => checking
failed + check-no-update => ILLEGAL
failed + check-found-update => ILLEGAL
failed + download-finished => ILLEGAL
failed + stage-finished => ILLEGAL
failed + reboot-allowed => ILLEGAL
failed + health-passed => ILLEGAL
failed + health-failed => ILLEGAL
failed + error => ILLEGAL
failed + agent-started(same boot) => failed
failed + agent-started(new boot, new slot) => failed
failed + agent-started(new boot, old slot) => failed
verifying + check-requested => ILLEGAL
verifying + check-no-update => ILLEGAL
verifying + check-found-update => ILLEGAL
verifying + download-finished => ILLEGAL
verifying + stage-finished => staged
verifying + reboot-allowed => ILLEGAL
verifying + health-passed => ILLEGAL
verifying + health-failed => ILLEGAL
verifying + error => failed
verifying + agent-started(same boot) => verifying
verifying + agent-started(new boot, new slot) => confirming
verifying + agent-started(new boot, old slot) => verifying
staged + check-requested => ILLEGAL
staged + check-no-update => ILLEGAL
staged + check-found-update => ILLEGAL
staged + download-finished => ILLEGAL
staged + stage-finished => ILLEGAL
staged + reboot-allowed => rebooting(update)
staged + health-passed => ILLEGAL
staged + health-failed => ILLEGAL
staged + error => ILLEGAL
staged + agent-started(same boot) => staged
staged + agent-started(new boot, new slot) => confirming
staged + agent-started(new boot, old slot) => rolled-back
confirming + check-requested => ILLEGAL
confirming + check-no-update => ILLEGAL
confirming + check-found-update => ILLEGAL
confirming + download-finished => ILLEGAL
confirming + stage-finished => ILLEGAL
confirming + reboot-allowed => ILLEGAL
confirming + health-passed => succeeded
confirming + health-failed => rebooting(health-failed)
confirming + error => ILLEGAL
confirming + agent-started(same boot) => confirming
confirming + agent-started(new boot, new slot) => confirming
confirming + agent-started(new boot, old slot) => rolled-back
rebooting(update) + check-requested => ILLEGAL
rebooting(update) + check-no-update => ILLEGAL
rebooting(update) + check-found-update => ILLEGAL
rebooting(update) + download-finished => ILLEGAL
rebooting(update) + stage-finished => ILLEGAL
rebooting(update) + reboot-allowed => ILLEGAL
rebooting(update) + health-passed => ILLEGAL
rebooting(update) + health-failed => ILLEGAL
rebooting(update) + error => ILLEGAL
rebooting(update) + agent-started(same boot) => rebooting(update)
rebooting(update) + agent-started(new boot, new slot) => confirming
rebooting(update) + agent-started(new boot, old slot) => rolled-back
rolled-back + check-requested => checking
rolled-back + check-no-update => ILLEGAL
rolled-back + check-found-update => ILLEGAL
rolled-back + download-finished => ILLEGAL
rolled-back + stage-finished => ILLEGAL
rolled-back + reboot-allowed => ILLEGAL
rolled-back + health-passed => ILLEGAL
rolled-back + health-failed => ILLEGAL
rolled-back + error => ILLEGAL
rolled-back + agent-started(same boot) => rolled-back
rolled-back + agent-started(new boot, new slot) => rolled-back
rolled-back + agent-started(new boot, old slot) => rolled-back
succeeded + check-requested => checking
succeeded + check-no-update => ILLEGAL
succeeded + check-found-update => ILLEGAL
succeeded + download-finished => ILLEGAL
succeeded + stage-finished => ILLEGAL
succeeded + reboot-allowed => ILLEGAL
succeeded + health-passed => ILLEGAL
succeeded + health-failed => ILLEGAL
succeeded + error => ILLEGAL
succeeded + agent-started(same boot) => succeeded
succeeded + agent-started(new boot, new slot) => succeeded
succeeded + agent-started(new boot, old slot) => succeeded
rebooting(health-failed) + check-requested => ILLEGAL
rebooting(health-failed) + check-no-update => ILLEGAL
rebooting(health-failed) + check-found-update => ILLEGAL
rebooting(health-failed) + download-finished => ILLEGAL
rebooting(health-failed) + stage-finished => ILLEGAL
rebooting(health-failed) + reboot-allowed => ILLEGAL
rebooting(health-failed) + health-passed => ILLEGAL
rebooting(health-failed) + health-failed => ILLEGAL
rebooting(health-failed) + error => ILLEGAL
rebooting(health-failed) + agent-started(same boot) => rebooting(health-failed)
rebooting(health-failed) + agent-started(new boot, new slot) => rebooting(health-failed)
rebooting(health-failed) + agent-started(new boot, old slot) => rolled-back
`
