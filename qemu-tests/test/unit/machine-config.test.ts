import { load } from 'js-yaml';
import t from 'tap';
import { GUEST_API_PORT } from '../../harness/api-client.ts';
import { caseConfig, shellContainer, sleeperContainer, webContainer } from '../../harness/machine-config.ts';

void t.test('a case config: the shared sections in a fixed order, containers as given', (t) => {
  const ca = '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n';
  const text = caseConfig({
    hostname: 'h',
    apiCaPem: ca,
    insecureRegistries: ['10.0.2.100:5000'],
    sections: { storage: { reserve: '1T' } },
    containers: { web: webContainer({ ports: ['8080:8080'] }), s: sleeperContainer({ restart: 'always' }), w: shellContainer('echo "n $i"; exit 3') },
  });
  t.same(Object.keys(load(text) as object), ['hostname', 'api', 'debug', 'registries', 'storage', 'containers']);
  t.same(load(text), {
    hostname: 'h',
    api: { listen: [`0.0.0.0:${GUEST_API_PORT}`], client_ca: ca },
    debug: { shell: 'ttyS1' },
    registries: { '10.0.2.100:5000': { insecure: true } },
    storage: { reserve: '1T' },
    containers: {
      web: { image: 'berth-test', ports: ['8080:8080'] },
      s: { image: 'berth-test', entrypoint: ['/bin/sleep', '100000'], network_mode: 'none', restart: 'always' },
      w: { image: 'berth-test', entrypoint: ['/bin/sh', '-c', 'echo "n $i"; exit 3'], network_mode: 'none' },
    },
  });
  t.same(load(caseConfig({ debugShell: false })), {}, 'nothing asked, nothing written');
  t.same(load(caseConfig({})), { debug: { shell: 'ttyS1' } }, 'the debug shell by default');
  t.end();
});
