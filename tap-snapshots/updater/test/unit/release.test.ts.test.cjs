/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`updater/test/unit/release.test.ts > TAP > channel metadata parses, renders and resolves its bundle URL > must match snapshot 1`] = `
{"channel":"stable","version":"2.0.0","bundle_url":"../bundles/2.0.0/manifest.json","released":"2026-11-20T10:00:00Z","min_version":"1.0.0","published":"2026-11-20T10:00:00Z","expires":"2026-11-23T10:00:00Z"}
`
