/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`lib/test/unit/config-host-sections.test.ts > TAP > every problem in the host sections is reported with path and line > message 1`] = `
Invalid configuration config.yaml (18 problems):
config.yaml:4:19: network.interfaces.eth0.addresses[0]: expected an address with a prefix length like "10.0.2.15/24" or "fd00::5/64" but got "10.0.2.50"
config.yaml:4:30: network.interfaces.eth0.addresses[1]: expected an address with a prefix length like "10.0.2.15/24" or "fd00::5/64" but got "10.0.2.51/33"
config.yaml:5:16: network.interfaces.eth0.gateway: expected an IPv4 or IPv6 address like "10.0.2.2" or "fd00::1" but got "10.0.2.256"
config.yaml:7:35: network.interfaces.eth0.routes[0].via: "via" fd00::2 is not of the same address family as "to" 10.1.0.0/16
config.yaml:8:11: network.interfaces.eth0.routes[1]: missing required key "to"
config.yaml:9:7: network.interfaces.eth0.mtux: unknown key (did you mean "mtu"?)
config.yaml:10:5: network.interfaces.this-name-is-too-long: invalid key: expected an interface name like "eth0" (1-15 letters, digits, "_", "-", ".") but got "this-name-is-too-long"
config.yaml:11:22: network.interfaces.eth1.gateway: an IPv4 gateway needs an IPv4 address on the interface (add one to "addresses", or set dhcp: true)
config.yaml:13:13: network.dns.search: "search" needs "servers" too (without servers, DNS settings come from DHCP)
config.yaml:14:3: network.dhcp: unknown key (expected one of "interfaces", "dns")
config.yaml:15:18: ntp.servers[0]: expected an NTP server host name or address like "pool.ntp.org" or "192.0.2.1" but got "not a host"
config.yaml:15:33: ntp.pool: unknown key (expected one of "servers")
config.yaml:16:12: time_zone: unknown time zone "europe/berlin" (did you mean "Europe/Berlin"?)
config.yaml:18:3: sysctls["/proc/sys/vm/swappiness"]: invalid key: expected a dotted sysctl name like "net.ipv4.ip_forward" but got "/proc/sys/vm/swappiness"
config.yaml:19:25: sysctls["vm.overcommit_memory"]: expected a string or a number but got true (write 1 or 0)
config.yaml:20:24: sysctls["kernel.core_pattern"]: expected a string or a number but got a sequence
config.yaml:21:18: kernel_modules[0]: expected a kernel module name like "br_netfilter" but got "../evil"
config.yaml:21:29: kernel_modules[1]: expected a kernel module name like "br_netfilter" but got "-r"
`
