/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/host-daemons.test.ts > TAP > chrony: config text, argv and its user > chrony.conf 1`] = `
# Written by berth init from the machine config (ntp.servers).
server pool.ntp.org iburst
server 192.0.2.1 iburst
driftfile /var/lib/chrony/chrony.drift
makestep 1 3
rtcsync
cmdport 0

`

exports[`init/test/unit/core/host-daemons.test.ts > TAP > chrony: config text, argv and its user > chronyd argv 1`] = `
Object {
  "args": Array [
    "-d",
    "-f",
    "/run/berth/chrony.conf",
  ],
  "file": "/usr/sbin/chronyd",
}
`

exports[`init/test/unit/core/host-daemons.test.ts > TAP > dhcpcd: config text and argv > dhcpcd argv 1`] = `
Object {
  "args": Array [
    "--config",
    "/run/berth/dhcpcd.conf",
    "--nobackground",
    "--manager",
  ],
  "file": "/usr/sbin/dhcpcd",
}
`

exports[`init/test/unit/core/host-daemons.test.ts > TAP > dhcpcd: config text and argv > dhcpcd.conf, DNS from DHCP 1`] = `
# Written by berth init from the machine config; dhcpcd runs in the foreground under init.
allowinterfaces eth0 eth1
nodev
hostname
duid
persistent
option domain_name_servers, domain_name, domain_search
option classless_static_routes
option interface_mtu
require dhcp_server_identifier
slaac hwaddr
noipv4ll
noarp
nodelay
nohook hostname
nohook timesyncd

`

exports[`init/test/unit/core/host-daemons.test.ts > TAP > status banner > with containers 1`] = `
----------------------------------------------------------------
berth 1.2.0 on slot b, host web-1
  eth0        10.0.2.15/24  fec0::5054:ff:fe12:3456/64
  eth1        (no address yet)
  time        Europe/Berlin, NTP pool.ntp.org
  containers  web (running, healthy)
              worker (restarting)
----------------------------------------------------------------
`

exports[`init/test/unit/core/host-daemons.test.ts > TAP > status banner > without a runtime 1`] = `
----------------------------------------------------------------
berth 1.2.0 on slot b, host web-1
  eth0        10.0.2.15/24  fec0::5054:ff:fe12:3456/64
  eth1        (no address yet)
  time        Europe/Berlin, NTP pool.ntp.org
----------------------------------------------------------------
`
