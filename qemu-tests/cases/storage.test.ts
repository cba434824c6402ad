/**
 * The disk reserve on /var and init's resources, in one boot of the containers profile image
 * (dir from BERTH_CONTAINERS_IMAGE_DIR, default out/qemu-containers) with a loopback registry
 * reached through a guestfwd and `berth ctl` over the API: berth.slice carries the memory.max and
 * pids.max derived from the guest's /proc; with a reserve larger than /var (applied live) a pull
 * is refused naming the image, nothing of it stays in the store, and the web container and the
 * API go on answering; with the reserve a few MiB below the free space, an image whose layer
 * unpacks far beyond that is stopped while it unpacks (the container fails naming the image, no
 * partial layer is left); with the default reserve again the same pull succeeds.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { parseMemTotal, parseProcInteger, servicesLimits } from '../../init/src/index.ts';
import { ctlConnection, GUEST_API_PORT, makeClientKeys, runCtl, type CtlResult } from '../harness/api-client.ts';
import { runVmCase } from '../harness/case.ts';
import { caseConfig, webContainer, type ContainerConfig } from '../harness/machine-config.ts';
import { busyboxEntries, containersImageDir, FAILED_PATTERN, fetchTextUntil, HOST_BUSYBOX, loadImage, PANIC_PATTERN, TEST_IMAGE_APPLETS, writeOciLayout } from '../../vm/src/index.ts';
import { missingRegistryTools, startRegistry } from '../harness/registry.ts';
import { freePort } from '../../lib/sys/free-port.ts';
import { errorCode } from '../../lib/errors.ts';

const GUEST_REGISTRY = '10.0.2.100:5000';
const BIG = `${GUEST_REGISTRY}/test/big:1`;
const BOMB = `${GUEST_REGISTRY}/test/bomb:1`;
const MIB = 1024 * 1024;
const SETTLE_MS = 90_000;
/** Init builds its startup snapshot 10 s after BERTH-READY, niced, for several seconds of emulated CPU. */
const SNAPSHOT_TIMEOUT_MS = 240_000;

for (const problem of missingRegistryTools()) {
  t.fail(problem);
  process.exit(1);
}

const work = t.testdir();
const keys = await makeClientKeys(path.join(work, 'keys'), 'admin');
const registry = await startRegistry(path.join(work, 'registry'));
t.teardown(() => registry.stop());

// big: busybox and 6 MiB that do not compress. bomb: 64 MiB of zeros, about 64 KiB gzip'd.
const bigLayout = path.join(work, 'big');
await writeOciLayout(bigLayout, {
  entries: busyboxEntries(await readFile(HOST_BUSYBOX), TEST_IMAGE_APPLETS, [{ name: 'big.bin', type: 'file', mode: 0o644, data: randomBytes(6 * MIB) }]),
  config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/sleep', '100000'] },
  refName: '1',
  createdBy: 'berth test suite: storage, an image for the reserve',
});
await registry.push(bigLayout, '1', 'test/big:1');
const bombLayout = path.join(work, 'bomb');
await writeOciLayout(bombLayout, {
  entries: [{ name: 'zeros.bin', type: 'file', mode: 0o644, data: Buffer.alloc(64 * MIB) }],
  config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/sleep', '100000'] },
  refName: '1',
  createdBy: 'berth test suite: storage, a layer that unpacks 1000x',
});
await registry.push(bombLayout, '1', 'test/bomb:1');

/** The machine config: the API, the debug shell, the registry and web; `storage` and more containers as given. */
function config(storage?: Record<string, unknown>, more: Record<string, ContainerConfig> = {}): string {
  return caseConfig({
    hostname: 'storage-test',
    apiCaPem: keys.caPem,
    insecureRegistries: [GUEST_REGISTRY],
    ...(storage ? { sections: { storage } } : {}),
    containers: { web: webContainer({ network_mode: 'host' }), ...more },
  });
}

const apiPort = await freePort();
const webPort = await freePort();
const image = await loadImage(containersImageDir());

await runVmCase(
  t,
  'storage',
  {
    boots: 1,
    image,
    config: config(),
    hostForwards: [
      { protocol: 'tcp', hostPort: apiPort, guestPort: GUEST_API_PORT },
      { protocol: 'tcp', hostPort: webPort, guestPort: 8080 },
    ],
    guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 5000, hostPort: registry.port }],
  },
  async ({ machine }) => {
    const vm = await machine.boot();
    const ready = await vm.waitForReady();
    t.comment(`boot_ms=${ready.bootMs} api_port=${apiPort} registry_port=${registry.port}`);
    const certLine = await vm.waitFor(/msg="API server certificate" origin=\S+ sha256=([0-9a-f]{64})/, 30_000);
    await vm.waitFor(/msg="API listening" address=https:\/\/0\.0\.0\.0:7443/, 30_000);
    // Init writes its code cache and then its startup snapshot (with a temporary file) to /var
    // after the boot settles; the reserve tests below measure /var's free space to the MiB.
    await vm.waitFor(/msg="Startup snapshot (saved|not saved)"/, SNAPSHOT_TIMEOUT_MS, { failOn: [PANIC_PATTERN, FAILED_PATTERN] });
    const base = ctlConnection(apiPort, keys, certLine.match[1] ?? '');
    const ctl = (args: string[]): Promise<CtlResult> => runCtl([...base, ...args]);
    const shell = await vm.shell();

    const apply = async (name: string, text: string): Promise<CtlResult> => {
      const file = path.join(work, name);
      await writeFile(file, text);
      return ctl(['config', 'apply', file]);
    };
    const containerState = async (name: string): Promise<{ state?: string; error?: string | null }> => {
      const inspect = await ctl(['inspect', name, '--json']);
      return inspect.code === 0 ? (JSON.parse(inspect.stdout) as { state: string; error: string | null }) : {};
    };
    const waitForState = async (name: string, state: string): Promise<{ state?: string; error?: string | null }> => {
      const deadline = performance.now() + SETTLE_MS;
      let seen = await containerState(name);
      while (seen.state !== state && performance.now() < deadline) {
        await new Promise((done) => setTimeout(done, 1000));
        seen = await containerState(name);
      }
      return seen;
    };
    /** Bytes free on /var for unprivileged writers (f_bavail), as the reserve counts them. */
    const available = async (): Promise<number> => {
      const [blocks, size] = (await shell.check("stat -f -c '%a %S' /var")).trim().split(/\s+/).map(Number);
      return (blocks ?? 0) * (size ?? 0);
    };
    /** The web container and the API both answer. */
    const hostAnswers = async (t: Test): Promise<void> => {
      t.match(await fetchTextUntil(`http://127.0.0.1:${webPort}/`, 'hello from berth', 30_000), /hello from berth/, 'web answers on its port');
      const status = await ctl(['status', '--json']);
      t.equal(status.code, 0, `GET status works: ${status.stderr}`);
      t.equal((await containerState('web')).state, 'running', 'web is running');
    };

    await t.test('berth.slice is capped below what the host has: init keeps its headroom', async (t) => {
      const line = vm.console.text().match(/msg="Cgroups ready".* services_memory_max=(\d+) services_pids_max=(\d+)/);
      t.ok(line, 'init logs the caps');
      const memoryMax = Number(await shell.check('cat /sys/fs/cgroup/berth.slice/memory.max'));
      const pidsMax = Number(await shell.check('cat /sys/fs/cgroup/berth.slice/pids.max'));
      const expected = servicesLimits({
        memTotalBytes: parseMemTotal(await shell.check('cat /proc/meminfo')) ?? 0,
        pidMax: parseProcInteger(await shell.check('cat /proc/sys/kernel/pid_max')) ?? 0,
        threadsMax: parseProcInteger(await shell.check('cat /proc/sys/kernel/threads-max')) ?? 0,
      });
      t.equal(memoryMax, expected.memoryMaxBytes, `memory.max ${memoryMax} = MemTotal minus init's headroom`);
      t.equal(pidsMax, expected.pidsMax, `pids.max ${pidsMax} = the task limit minus init's headroom`);
      t.equal(line?.[1], String(memoryMax), 'as logged');
      t.equal(line?.[2], String(pidsMax), 'as logged');
      t.match(await shell.check('cat /sys/fs/cgroup/init.scope/cgroup.procs'), /^\d+$/m, 'init runs in init.scope, outside the slice');
    });

    await t.test('with a reserve larger than /var a pull is refused naming the image; web and the API are unaffected', async (t) => {
      await hostAnswers(t);
      const applied = await apply('huge.yaml', config({ reserve: '1T' }));
      t.equal(applied.code, 0, `the reserve is applied live: ${applied.stderr}`);
      t.match(applied.stdout, /done\s+container registries and disk reserve/);
      // Not even the manifest is stored: every blob, small or large, is charged against the reserve.
      const pull = await ctl(['pull', BIG, '--json']);
      t.not(pull.code, 0, `berth ctl pull fails (exit ${pull.code})`);
      const events = pull.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; error?: { code: string; message: string }; kind?: string });
      t.match(events.at(-1), { event: 'error', error: { code: errorCode('RUNTIME_DISK_RESERVE'), message: /^Cannot pull 10\.0\.2\.100:5000\/test\/big:1: .* the reserve of 1\.0 TiB \(storage\.reserve: 1\.0 TiB\)/ } }, 'the NDJSON stream ends with the typed error naming the image');
      t.notOk(events.some((e) => e.event === 'progress' && e.kind === 'layer'), 'no layer was fetched');
      t.comment(events.at(-1)?.error?.message ?? '');
      await hostAnswers(t);
    });

    await t.test('with the reserve 2 MiB below the free space the pull is refused before its layer, from the manifest\'s sizes', async (t) => {
      const free = await available();
      const applied = await apply('large.yaml', config({ reserve: free - 2 * MIB }));
      t.equal(applied.code, 0, applied.stderr);
      const pull = await ctl(['pull', BIG]);
      t.equal(pull.code, 1, 'berth ctl pull exits 1');
      t.match(pull.stderr, /Cannot pull 10\.0\.2\.100:5000\/test\/big:1: its layers take about [67]\.\d MiB on \/var and only [\d.]+ (KiB|MiB) is free above the reserve of [\d.]+ GiB \(storage\.reserve: [\d.]+ GiB\); free space on \/var \(berth ctl prune, berth ctl rmi\) or lower storage\.reserve in the machine config \[RUNTIME_DISK_RESERVE\]/);
      t.comment(pull.stderr);
      const images = JSON.parse((await ctl(['images', '--json'])).stdout) as Array<{ reference: string }>;
      t.notOk(images.some((i) => i.reference === BIG), 'the image is not listed');
      t.equal((await shell.check('ls -A /var/lib/berth/runtime/blobs/.partial 2>/dev/null | wc -l')).trim(), '0', 'no partial blob');
      await hostAnswers(t);
    });

    await t.test('an unpack that would cross the reserve is stopped: the container fails naming the image, no layer is left', async (t) => {
      const free = await available();
      const reserve = free - 8 * MIB;
      t.comment(`/var has ${free} bytes free; reserve set to ${reserve}`);
      const applied = await apply(
        'tight.yaml',
        config({ reserve }, { bomb: { image: BOMB, network_mode: 'none' } }),
      );
      t.equal(applied.code, 1, 'the apply reports the container that failed');
      t.match(applied.stdout, /FAILED\s+containers created bomb: .*Containers failed to start: bomb/);
      const bomb = await waitForState('bomb', 'failed');
      t.equal(bomb.state, 'failed', 'bomb failed');
      t.match(bomb.error, /\[RUNTIME_DISK_RESERVE\] Cannot unpack image 10\.0\.2\.100:5000\/test\/bomb:1: Layer sha256:[0-9a-f]+… stopped: \/var is down to [\d.]+ (KiB|MiB|GiB) free, the reserve of [\d.]+ GiB \(storage\.reserve: [\d.]+ GiB\); what it wrote is removed again; free space on \/var/);
      t.notMatch(bomb.error, /machine config: /, 'said once');
      t.comment(bomb.error ?? '');
      const layers = await shell.check('ls -A /var/lib/berth/runtime/layers');
      t.notMatch(layers, /partial/, 'no partial layer directory');
      const after = await available();
      t.ok(after > reserve, `the reserve is intact: ${after} bytes free, reserve ${reserve}`);
      await hostAnswers(t);
    });

    await t.test('with the default reserve again the same pull goes through', async (t) => {
      const applied = await apply('default.yaml', config());
      t.equal(applied.code, 0, applied.stderr);
      const pull = await ctl(['pull', BIG]);
      t.equal(pull.code, 0, pull.stderr);
      t.match(pull.stdout, /^Pulled 10\.0\.2\.100:5000\/test\/big:1 /m);
      const images = JSON.parse((await ctl(['images', '--json'])).stdout) as Array<{ reference: string }>;
      t.ok(images.some((i) => i.reference === BIG), 'listed');
      await hostAnswers(t);
    });
  },
);
