import t from 'tap';
import { loadMachineConfig } from '../../../../lib/config/machine-config.ts';
import { etcdLogLevel, isEtcdHealthy, listenUrlOf, planEtcd } from '../../../src/core/etcd.ts';

function etcdOf(lines: string[]): NonNullable<ReturnType<typeof loadMachineConfig>['config']['etcd']> {
  const etcd = loadMachineConfig(lines.join('\n'), 'c').config.etcd;
  if (!etcd) throw new Error('no etcd section');
  return etcd;
}

const PLAIN = ['etcd:', '  name: n2', '  peer_urls: [http://10.0.0.2:2380]', '  client_urls: [http://10.0.0.2:2379]', '  initial_cluster: { n1: http://10.0.0.1:2380, n2: http://10.0.0.2:2380, n3: http://10.0.0.3:2380 }'];

void t.test('a plain-http member: argv as etcd wants it, no files', (t) => {
  const plan = planEtcd(etcdOf(PLAIN));
  t.equal(plan.file, '/usr/bin/etcd');
  t.same(plan.files, []);
  t.equal(plan.healthUrl, 'http://127.0.0.1:2381/health');
  t.matchSnapshot(plan.args, 'argv');
  t.end();
});

void t.test('with TLS: inline PEM is written under /run/berth/etcd, paths are used as they are; setpriv drops root', (t) => {
  const tls = [
    '  peer_tls: { ca: /etc/etcd/ca.pem, cert: /etc/etcd/peer.pem, key: /etc/etcd/peer-key.pem }',
    '  client_tls: { ca: /etc/etcd/ca.pem, cert: /etc/etcd/server.pem, key: "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----" }',
  ];
  const plan = planEtcd(etcdOf([...PLAIN.map((l) => l.replaceAll('http://', 'https://')), '  initial_cluster_state: existing', ...tls]), { uid: 105, gid: 107 });
  t.equal(plan.file, '/usr/bin/setpriv');
  t.same(plan.files, [{ path: '/run/berth/etcd/client-key.pem', content: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }]);
  t.matchSnapshot(plan.args, 'argv');
  t.end();
});

void t.test('listen URLs take every address of the family', (t) => {
  t.equal(listenUrlOf('https://10.0.0.2:2380'), 'https://0.0.0.0:2380');
  t.equal(listenUrlOf('http://[fd00::2]:2379'), 'http://[::]:2379');
  t.equal(listenUrlOf('http://etcd-2.example.org:2379'), 'http://0.0.0.0:2379');
  t.end();
});

void t.test('health answers and log levels', (t) => {
  t.ok(isEtcdHealthy(200, '{"health":"true","reason":""}'));
  t.notOk(isEtcdHealthy(503, '{"health":"false","reason":"RAFT NO LEADER"}'));
  t.notOk(isEtcdHealthy(200, '{"health":"false"}'));
  t.notOk(isEtcdHealthy(200, 'not json'));
  t.equal(etcdLogLevel('{"level":"warn","msg":"slow fdatasync"}'), 'warn');
  t.equal(etcdLogLevel('plain text'), undefined);
  t.equal(etcdLogLevel('{broken'), undefined);
  t.end();
});
