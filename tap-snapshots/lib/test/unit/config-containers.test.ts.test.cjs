/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`lib/test/unit/config-containers.test.ts > TAP > every problem is reported with its path > must match snapshot 1`] = `
containers.web.imagee: unknown key (did you mean "image"?)
containers.web.build: not supported: berth does not build images; set "image"
containers.web.ports[0]: expected a port like "8080:80", "127.0.0.1:53:53/udp" or "80" but got "70000:80"
containers.web.volumes[0]: bind source "/etc" must be an absolute path under /var without ".." (the rest of the host is read-only or berth's)
containers.web.volumes[1]: target "relative" must be an absolute path other than "/" without "." or ".."
containers.web.volumes[2]: missing required key "source" (anonymous volumes are not supported: name the volume)
containers.web.restart: expected one of "no", "always", "on-failure[:N]", "unless-stopped" but got "sometimes"
containers.web.healthcheck.test: expected ["CMD", "program", "arg", ...], ["CMD-SHELL", "command line"] or ["NONE"]
containers.web.healthcheck.interval: expected a duration like "10s", "1m30s" or "100ms" of at least 1ms but got 5 (add a unit, e.g. "5s")
containers.db: missing required key "image"
containers.db.command: unterminated quote
containers["bad name!"]: invalid key: expected a container name (letters, digits, "_", ".", "-"; at most 63) but got "bad name!"
registries.reg.username: "username" needs "password_file"
`
