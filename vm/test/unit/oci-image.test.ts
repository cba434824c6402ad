import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { createBlobStore, importOciLayout } from '../../../runtime/src/index.ts';
import { busyboxEntries, ociArchive, tarEntries, writeOciLayout, writeTestImage } from '../../src/oci-image.ts';

void t.test('the test image layout imports into the runtime store', async (t) => {
  const dir = t.testdir();
  const fakeBusybox = join(dir, 'busybox');
  await writeFile(fakeBusybox, 'not really busybox');
  const image = await writeTestImage(join(dir, 'oci'), fakeBusybox);
  const imported = await importOciLayout(image.layoutDir, createBlobStore(join(dir, 'store')), { refName: 'latest' });
  t.equal(imported.manifest.digest, image.manifestDigest);
  t.equal(imported.config.digest, image.configDigest);
  t.same(imported.config.entrypoint, ['/bin/httpd', '-f', '-v', '-p', '8080', '-h', '/var/www']);
  t.same(imported.config.exposedPorts, ['8080/tcp']);
});

void t.test('equal inputs give equal bytes', async (t) => {
  const dir = t.testdir();
  const spec = { entries: busyboxEntries(Buffer.from('bb'), ['sh']), config: { Cmd: ['/bin/sh'] } };
  const a = await writeOciLayout(join(dir, 'a'), spec);
  const b = await writeOciLayout(join(dir, 'b'), spec);
  t.equal(a.manifestDigest, b.manifestDigest);
  t.same(await ociArchive(a), await ociArchive(b));
  t.same(await tarEntries([]), await tarEntries([]));
});
