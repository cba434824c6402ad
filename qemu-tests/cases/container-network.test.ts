/**
 * Container bridge networking through the Debian CNI plugins in the booted guest, and a pull from
 * a real registry: Debian's docker-registry runs on this machine's 127.0.0.1 with its own storage,
 * skopeo pushes an image into it, and the guest reaches it only through a guestfwd
 * (10.0.2.100:5000). Checks: a published port ("8080:80") answers through hostfwd; containers find
 * each other by name (hosts files kept current as peers start); the pulled image runs; iptables
 * holds the portmap rules. Images: the busybox test image preloaded by the image-builder
 * (qemu-tests/profiles/containers.yaml; image dir from BERTH_CONTAINERS_IMAGE_DIR, default
 * out/qemu-containers) and one written here for the registry.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runVmCase } from '../harness/case.ts';
import { busyboxEntries, containersImageDir, fetchTextUntil, HOST_BUSYBOX, loadImage, TEST_IMAGE_APPLETS, writeOciLayout } from '../../vm/src/index.ts';
import { missingRegistryTools, startRegistry } from '../harness/registry.ts';
import { freePort } from '../../lib/sys/free-port.ts';

const GUEST_REGISTRY = '10.0.2.100:5000';

for (const problem of missingRegistryTools()) {
  t.fail(problem);
  process.exit(1);
}

/** How long state that settles after READY (a container's state, its peers in /etc/hosts) gets. */
const SETTLE_MS = 90_000;

const CRUN = 'crun --root /run/berth/crun';

const work = await mkdtemp(join(tmpdir(), 'berth-cni-'));
t.teardown(() => rm(work, { recursive: true, force: true }));
const hostPort = await freePort();
const registry = await startRegistry(join(work, 'registry'));
const registryPort = registry.port;
t.teardown(() => registry.stop());

// The registry's image: the busybox test root with its own page, so a pulled container is told apart.
const busybox = await readFile(HOST_BUSYBOX);
const layout = join(work, 'layout');
await writeOciLayout(layout, {
  entries: busyboxEntries(busybox, TEST_IMAGE_APPLETS, [{ name: 'var/www/index.html', type: 'file', mode: 0o644, data: Buffer.from('hello from the registry\n') }]),
  config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/httpd', '-f', '-v', '-p', '8081', '-h', '/var/www'] },
  refName: '1',
  createdBy: 'berth test suite: registry image',
});
await registry.push(layout, '1', 'test/web:1');
t.comment(`registry=127.0.0.1:${registryPort} image pushed as test/web:1`);

const CONFIG = `
debug:
  shell: ttyS1
registries:
  "${GUEST_REGISTRY}": { insecure: true }
x-quick-stop: &quick-stop
  stop_grace_period: 1s   # httpd and sleep as PID 1 ignore SIGTERM
containers:
  web:
    <<: *quick-stop
    image: berth-test
    entrypoint: ["/bin/httpd", "-f", "-v", "-p", "80", "-h", "/var/www"]
    ports: ["8080:80"]
  client:
    <<: *quick-stop
    image: berth-test
    entrypoint: ["/bin/sleep", "100000"]
    # After web: two containers unpacking the same layer at once race in the engine (RUNTIME_LAYER_EXISTS).
    depends_on: { web: { condition: service_started } }
  pulled:
    <<: *quick-stop
    image: ${GUEST_REGISTRY}/test/web:1
  flappy:
    # Exits every second and is restarted; the engine keeps its namespace across restarts, which must not pile up leases or rules.
    image: berth-test
    entrypoint: ["/bin/sh", "-c", "sleep 1; exit 1"]
    restart: always
    depends_on: { web: { condition: service_started } }
`;

const image = await loadImage(containersImageDir());

await runVmCase(
  t,
  'container-network',
  {
    boots: 1,
    image,
    config: CONFIG,
    hostForwards: [{ protocol: 'tcp', hostPort, guestPort: 8080 }],
    guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 5000, hostPort: registryPort }],
  },
  async ({ machine }) => {
    const vm = await machine.boot();
    const ready = await vm.waitForReady();
    t.comment(`boot_ms=${ready.bootMs}`);
    const shell = await vm.shell();

    await t.test('bridge containers get addresses from the CNI chain', async (t) => {
      for (const name of ['web', 'client']) {
        t.match(await shell.runUntil(`${CRUN} state ${name}`, /"status": "running"/, SETTLE_MS), /"status": "running"/, `${name} is running`);
      }
      const attached = await vm.waitFor(/msg="Container attached to the bridge" container=web ip=(10\.88\.\d+\.\d+)/, 30_000);
      t.ok(attached, 'web attached to berth0 with an address in 10.88.0.0/16');
      t.match(await shell.check('ip -color=never -4 addr show berth0'), /inet 10\.88\.0\.1\/16/, 'the host is the gateway on berth0');
      t.match(await shell.check('cat /proc/sys/net/ipv4/ip_forward'), /^1/, 'forwarding is on');
      t.match(await shell.check('iptables -t nat -S'), /CNI-HOSTPORT-DNAT/, 'portmap installed its DNAT chain (iptables, nft backend)');
    });

    await t.test('a published port answers through hostfwd', async (t) => {
      const body = await fetchTextUntil(`http://127.0.0.1:${hostPort}/`, 'hello from berth', 60_000, { requestTimeoutMs: 5000 });
      t.match(body, /hello from berth/, 'GET / on the host reaches httpd on port 80 of the web container (8080:80)');
    });

    await t.test('the registry image is pulled through guestfwd and runs', async (t) => {
      t.match(await shell.runUntil(`${CRUN} state pulled`, /"status": "running"/, 180_000), /"status": "running"/, 'pulled is running');
      t.match(vm.console.text(), /10\.0\.2\.100:5000\/test\/web:1/, 'the console names the pulled reference');
    });

    await t.test('containers reach each other by name', async (t) => {
      const hosts = await shell.runUntil(`${CRUN} exec client cat /etc/hosts`, /\tpulled\b/, SETTLE_MS);
      t.match(hosts, /10\.88\.\d+\.\d+\tweb\b/, "client's /etc/hosts lists web");
      t.match(hosts, /10\.88\.\d+\.\d+\tpulled\b/, 'and pulled, whichever started later');
      t.match(await shell.check(`${CRUN} exec client wget -q -O - http://web/`), /hello from berth/, 'client fetches http://web/');
      t.match(await shell.check(`${CRUN} exec client wget -q -O - http://pulled:8081/`), /hello from the registry/, 'client fetches http://pulled:8081/');
      t.match(await shell.check(`${CRUN} exec pulled wget -q -O - http://web/`), /hello from berth/, 'pulled fetches http://web/');
      // Outbound through the bridge's masquerade to the user network: the registry's /v2/ answers {}.
      t.match(await shell.check(`${CRUN} exec client wget -q -O - http://${GUEST_REGISTRY}/v2/`), /\{\}/, 'client reaches the registry outside the host (masquerade)');
    });

    await t.test('a container restarted again and again leaks no namespace, lease or rule (its namespace is kept across restarts)', async (t) => {
      await vm.waitFor(/msg="Container restarting" container=flappy exit_code=1 restart_count=4 /, 90_000);
      const netns = await shell.check('ls /run/netns');
      t.notMatch(netns, /berth-(?!web\b|client\b|pulled\b|flappy\b)/, 'only the containers own namespaces');
      const leases = (await shell.check('ls /run/berth/cni/ipam/berth')).split(/\s+/).filter((f) => /^\d/.test(f));
      t.ok(leases.length <= 4, `at most one lease per container (${leases.join(' ')})`);
      const flappyRules = (await shell.check('iptables-save')).split('\n').filter((line) => line.includes('id: \\"flappy\\"'));
      t.ok(flappyRules.length <= 10, `no pile-up of flappy's rules (${flappyRules.length})`);
      t.notMatch(vm.console.text(), /msg="CNI DEL failed"/, 'every DEL succeeded');
    });

    await t.test('containers leave the bridge at power-off', async (t) => {
      await vm.powerdown(90_000);
      const detached = vm.console.text().match(/msg="Container detached from the bridge"/g) ?? [];
      t.ok(detached.length >= 3, 'DEL ran for every bridge container');
      t.notMatch(vm.console.text(), /msg="CNI DEL failed"/, 'without plugin errors');
    });
  },
);
