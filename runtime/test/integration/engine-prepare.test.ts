import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { createMemoryLogger } from '../../../lib/log.ts';
import { createFakeExec } from '../../../lib/sys/exec.ts';
import { busyboxEntries, writeOciLayout } from '../../../vm/src/index.ts';
import type { RuntimeSys } from '../../src/container.ts';
import { Engine } from '../../src/engine.ts';

function engineIn(dir: string): { engine: Engine; logger: ReturnType<typeof createMemoryLogger>; exec: ReturnType<typeof createFakeExec> } {
  const logger = createMemoryLogger('runtime');
  const exec = createFakeExec();
  const sys: RuntimeSys = {
    exec,
    monitors: {
      cgroup: () => Promise.resolve(undefined),
      find: () => Promise.resolve(undefined),
      start: () => Promise.reject(new Error('no container may start in this test')),
    },
    nowMs: () => performance.now(),
    now: () => new Date(),
  };
  const root = join(dir, 'runtime');
  const engine = new Engine({
    sys,
    logger,
    paths: {
      root,
      preloadDir: join(dir, 'preload'),
      layersDir: join(root, 'layers'),
      containersDir: join(root, 'containers'),
      bundlesDir: join(dir, 'run', 'bundles'),
      logDir: join(dir, 'log'),
      volumesDir: join(root, 'volumes'),
      hostResolvConf: join(dir, 'resolv.conf'),
    },
    disk: { statfs: () => Promise.resolve({ totalBytes: 64 * 1024 ** 3, availableBytes: 32 * 1024 ** 3, totalInodes: 1e7, freeInodes: 1e7 }) },
  });
  return { engine, logger, exec };
}

void t.test('prepare() opens the store, imports preloaded images and unpacks the held images the config names, without pulling', async (t) => {
  const dir = t.testdir();
  await mkdir(join(dir, 'preload'), { recursive: true });
  await writeOciLayout(join(dir, 'preload', 'web'), { entries: busyboxEntries(Buffer.from('bb-web'), ['sh']), config: { Cmd: ['/bin/sh'] }, refName: 'latest' });
  const { config } = loadMachineConfig('containers:\n  web:\n    image: web\n    network_mode: none\n  remote:\n    image: registry.example/not-here:1\n    network_mode: none\n', 'test');
  const { engine, logger, exec } = engineIn(dir);
  await engine.prepare(config);
  await engine.prepare(config);

  const layers = await readdir(join(dir, 'runtime', 'layers'));
  t.equal(layers.length, 1, "the preloaded image's one layer is unpacked");
  t.equal(logger.lines.filter((l) => l.includes('msg="Preloaded image imported"')).length, 1);
  t.equal(logger.lines.filter((l) => l.includes('msg="Image layers unpacked" image=web layers=1')).length, 1, 'once, however often prepare() is called');
  t.notOk(
    logger.lines.some((l) => l.includes('Pulling image') || l.includes('not-here')),
    'an image the host does not hold waits for the start (and the network)',
  );
  t.ok(
    exec.calls.some((c) => c.args.includes('--version')),
    "crun's version is asked while the images load",
  );
  t.same(
    (await engine.listImages()).map((i) => i.reference),
    ['docker.io/library/web:latest'],
    'the image store is open for the API before the start',
  );
});

void t.test('stopAll() waits for a preparation still running', async (t) => {
  const dir = t.testdir();
  await mkdir(join(dir, 'preload'), { recursive: true });
  await writeOciLayout(join(dir, 'preload', 'web'), { entries: busyboxEntries(Buffer.from('bb-web'), ['sh']), config: { Cmd: ['/bin/sh'] }, refName: 'latest' });
  const { config } = loadMachineConfig('containers:\n  web:\n    image: web\n    network_mode: none\n', 'test');
  const { engine } = engineIn(dir);
  void engine.prepare(config);
  await engine.stopAll(60_000);
  t.equal((await readdir(join(dir, 'runtime', 'layers'))).length, 1, 'the unpack finished before the stop returned');
});
