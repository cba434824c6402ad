/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/core/etcd.test.ts > TAP > a plain-http member: argv as etcd wants it, no files > argv 1`] = `
Array [
  "--name=n2",
  "--data-dir=/var/lib/etcd",
  "--listen-peer-urls=http://0.0.0.0:2380",
  "--initial-advertise-peer-urls=http://10.0.0.2:2380",
  "--listen-client-urls=http://0.0.0.0:2379",
  "--advertise-client-urls=http://10.0.0.2:2379",
  "--listen-metrics-urls=http://127.0.0.1:2381",
  "--initial-cluster=n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380,n3=http://10.0.0.3:2380",
  "--initial-cluster-state=new",
  "--initial-cluster-token=berth-etcd",
  "--logger=zap",
  "--log-outputs=stderr",
]
`

exports[`init/test/unit/core/etcd.test.ts > TAP > with TLS: inline PEM is written under /run/berth/etcd, paths are used as they are; setpriv drops root > argv 1`] = `
Array [
  "--reuid=105",
  "--regid=107",
  "--clear-groups",
  "--",
  "/usr/bin/etcd",
  "--name=n2",
  "--data-dir=/var/lib/etcd",
  "--listen-peer-urls=https://0.0.0.0:2380",
  "--initial-advertise-peer-urls=https://10.0.0.2:2380",
  "--listen-client-urls=https://0.0.0.0:2379",
  "--advertise-client-urls=https://10.0.0.2:2379",
  "--listen-metrics-urls=http://127.0.0.1:2381",
  "--initial-cluster=n1=https://10.0.0.1:2380,n2=https://10.0.0.2:2380,n3=https://10.0.0.3:2380",
  "--initial-cluster-state=existing",
  "--initial-cluster-token=berth-etcd",
  "--logger=zap",
  "--log-outputs=stderr",
  "--trusted-ca-file=/etc/etcd/ca.pem",
  "--cert-file=/etc/etcd/server.pem",
  "--key-file=/run/berth/etcd/client-key.pem",
  "--client-cert-auth",
  "--peer-trusted-ca-file=/etc/etcd/ca.pem",
  "--peer-cert-file=/etc/etcd/peer.pem",
  "--peer-key-file=/etc/etcd/peer-key.pem",
  "--peer-client-cert-auth",
]
`
