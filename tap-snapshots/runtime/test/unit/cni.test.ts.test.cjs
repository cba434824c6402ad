/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`runtime/test/unit/cni.test.ts > TAP > hosts files > db alone, hostname alias 1`] = `
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
10.88.0.3	database db

`

exports[`runtime/test/unit/cni.test.ts > TAP > hosts files > web with peers and extra_hosts 1`] = `
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
10.88.0.2	web
# containers on the bridge (kept current by berth)
10.88.0.4	cache
10.88.0.3	database db
# extra_hosts
10.0.2.2	gw
fd00::1	v6

`

exports[`runtime/test/unit/cni.test.ts > TAP > network configuration lists > custom subnet, mtu and IPAM dir 1`] = `
Object {
  "cniVersion": "1.0.0",
  "disableCheck": true,
  "name": "berth",
  "plugins": Array [
    Object {
      "bridge": "br-c",
      "hairpinMode": true,
      "ipam": Object {
        "dataDir": "/tmp/ipam",
        "ranges": Array [
          Array [
            Object {
              "gateway": "172.30.8.1",
              "subnet": "172.30.8.0/22",
            },
          ],
        ],
        "routes": Array [
          Object {
            "dst": "0.0.0.0/0",
          },
        ],
        "type": "host-local",
      },
      "ipMasq": true,
      "isGateway": true,
      "mtu": 1400,
      "type": "bridge",
    },
    Object {
      "capabilities": Object {
        "portMappings": true,
      },
      "snat": true,
      "type": "portmap",
    },
    Object {
      "backend": "iptables",
      "type": "firewall",
    },
  ],
}
`

exports[`runtime/test/unit/cni.test.ts > TAP > network configuration lists > default bridge network 1`] = `
Object {
  "cniVersion": "1.0.0",
  "disableCheck": true,
  "name": "berth",
  "plugins": Array [
    Object {
      "bridge": "berth0",
      "hairpinMode": true,
      "ipam": Object {
        "dataDir": "/run/berth/cni/ipam",
        "ranges": Array [
          Array [
            Object {
              "gateway": "10.88.0.1",
              "subnet": "10.88.0.0/16",
            },
          ],
        ],
        "routes": Array [
          Object {
            "dst": "0.0.0.0/0",
          },
        ],
        "type": "host-local",
      },
      "ipMasq": true,
      "isGateway": true,
      "type": "bridge",
    },
    Object {
      "capabilities": Object {
        "portMappings": true,
      },
      "snat": true,
      "type": "portmap",
    },
    Object {
      "backend": "iptables",
      "type": "firewall",
    },
  ],
}
`

exports[`runtime/test/unit/cni.test.ts > TAP > network configuration lists > loopback 1`] = `
Object {
  "cniVersion": "1.0.0",
  "name": "berth-loopback",
  "plugins": Array [
    Object {
      "type": "loopback",
    },
  ],
}
`

exports[`runtime/test/unit/cni.test.ts > TAP > plugin invocations > bridge ADD 1`] = `
Object {
  "env": Object {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "web",
    "CNI_IFNAME": "eth0",
    "CNI_NETNS": "/run/netns/berth-web",
    "CNI_PATH": "/usr/lib/cni",
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
  },
  "file": "/usr/lib/cni/bridge",
  "plugin": "bridge",
  "stdin": "{\\"type\\":\\"bridge\\",\\"bridge\\":\\"berth0\\",\\"isGateway\\":true,\\"ipMasq\\":true,\\"hairpinMode\\":true,\\"ipam\\":{\\"type\\":\\"host-local\\",\\"ranges\\":[[{\\"subnet\\":\\"10.88.0.0/16\\",\\"gateway\\":\\"10.88.0.1\\"}]],\\"routes\\":[{\\"dst\\":\\"0.0.0.0/0\\"}],\\"dataDir\\":\\"/run/berth/cni/ipam\\"},\\"cniVersion\\":\\"1.0.0\\",\\"name\\":\\"berth\\"}\\n",
}
`

exports[`runtime/test/unit/cni.test.ts > TAP > plugin invocations > firewall DEL with cached result 1`] = `
Object {
  "env": Object {
    "CNI_COMMAND": "DEL",
    "CNI_CONTAINERID": "web",
    "CNI_IFNAME": "eth0",
    "CNI_NETNS": "/run/netns/berth-web",
    "CNI_PATH": "/opt/cni",
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
  },
  "file": "/opt/cni/firewall",
  "plugin": "firewall",
  "stdin": "{\\"type\\":\\"firewall\\",\\"backend\\":\\"iptables\\",\\"cniVersion\\":\\"1.0.0\\",\\"name\\":\\"berth\\",\\"prevResult\\":{\\"cniVersion\\":\\"1.0.0\\",\\"interfaces\\":[{\\"name\\":\\"berth0\\",\\"mac\\":\\"4a:00:00:00:00:01\\"},{\\"name\\":\\"veth1234\\",\\"mac\\":\\"4a:00:00:00:00:02\\"},{\\"name\\":\\"eth0\\",\\"mac\\":\\"4a:00:00:00:00:03\\",\\"sandbox\\":\\"/run/netns/berth-web\\"}],\\"ips\\":[{\\"address\\":\\"10.88.0.2/16\\",\\"gateway\\":\\"10.88.0.1\\",\\"interface\\":2}],\\"routes\\":[{\\"dst\\":\\"0.0.0.0/0\\"}],\\"dns\\":{}}}\\n",
}
`

exports[`runtime/test/unit/cni.test.ts > TAP > plugin invocations > loopback ADD 1`] = `
Object {
  "env": Object {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "web",
    "CNI_IFNAME": "lo",
    "CNI_NETNS": "/run/netns/berth-web",
    "CNI_PATH": "/usr/lib/cni",
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
  },
  "file": "/usr/lib/cni/loopback",
  "plugin": "loopback",
  "stdin": "{\\"type\\":\\"loopback\\",\\"cniVersion\\":\\"1.0.0\\",\\"name\\":\\"berth-loopback\\"}\\n",
}
`

exports[`runtime/test/unit/cni.test.ts > TAP > plugin invocations > portmap ADD with prevResult 1`] = `
Object {
  "env": Object {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "web",
    "CNI_IFNAME": "eth0",
    "CNI_NETNS": "/run/netns/berth-web",
    "CNI_PATH": "/usr/lib/cni",
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
  },
  "file": "/usr/lib/cni/portmap",
  "plugin": "portmap",
  "stdin": "{\\"type\\":\\"portmap\\",\\"capabilities\\":{\\"portMappings\\":true},\\"snat\\":true,\\"cniVersion\\":\\"1.0.0\\",\\"name\\":\\"berth\\",\\"runtimeConfig\\":{\\"portMappings\\":[{\\"hostPort\\":8080,\\"containerPort\\":80,\\"protocol\\":\\"tcp\\"}]},\\"prevResult\\":{\\"cniVersion\\":\\"1.0.0\\",\\"interfaces\\":[{\\"name\\":\\"berth0\\",\\"mac\\":\\"4a:00:00:00:00:01\\"},{\\"name\\":\\"veth1234\\",\\"mac\\":\\"4a:00:00:00:00:02\\"},{\\"name\\":\\"eth0\\",\\"mac\\":\\"4a:00:00:00:00:03\\",\\"sandbox\\":\\"/run/netns/berth-web\\"}],\\"ips\\":[{\\"address\\":\\"10.88.0.2/16\\",\\"gateway\\":\\"10.88.0.1\\",\\"interface\\":2}],\\"routes\\":[{\\"dst\\":\\"0.0.0.0/0\\"}],\\"dns\\":{}}}\\n",
}
`

exports[`runtime/test/unit/cni.test.ts > TAP > plugin results and errors > no error object: last stderr line 1`] = `
CNI plugin bridge failed to ADD container web: exit status 1, goroutine 1 [running]:
`

exports[`runtime/test/unit/cni.test.ts > TAP > plugin results and errors > plugin-specific error 1`] = `
CNI plugin bridge failed to ADD container web: running [/usr/sbin/iptables -t nat -N CNI-HOSTPORT-DNAT]: exit status 3 [CNI error 999: plugin-specific error]
`

exports[`runtime/test/unit/cni.test.ts > TAP > plugin results and errors > well-known error with details 1`] = `
CNI plugin bridge failed to ADD container web: failed to allocate for range 0 (no IP addresses available in range set) [CNI error 11: try again later]
`
