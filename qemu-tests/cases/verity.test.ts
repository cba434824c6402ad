/**
 * A root image with modified bytes is refused: on a fresh overlay, overwrite bytes inside
 * the first 4 KiB (the first verity data block) of root-a's image with qemu-io, which
 * writes only the overlay, then boot. The console must show the refusal (BERTH-FAILED from
 * the initramfs or a device-mapper verity error) and never BERTH-READY.
 *
 * The bytes are chosen so that only verity can notice them at mount time: the filesystem
 * reads block 0 for its superblock, but the changed bytes lie outside that superblock
 * (erofs ignores its first 1024 bytes; squashfs keeps compressed data after its 96-byte
 * superblock). A boot refused here was refused by verity, not by a filesystem check.
 */
import { open, stat } from 'node:fs/promises';
import t from 'tap';
import { isBerthError } from '../../lib/errors.ts';
import { runVmCase } from '../harness/case.ts';
import { type BuiltImage, READY_PATTERN, TIMEOUTS } from '../../vm/src/index.ts';

/** Which filesystem the root image holds, from its magic numbers in disk.raw. */
async function rootFilesystem(image: BuiltImage, start: number): Promise<'erofs' | 'squashfs' | 'unknown'> {
  if (image.raw === undefined) return 'unknown';
  const file = await open(image.raw, 'r');
  try {
    const head = Buffer.alloc(1028);
    await file.read(head, 0, head.length, start);
    if (head.subarray(0, 4).toString('latin1') === 'hsqs') return 'squashfs';
    if (head.readUInt32LE(1024) === 0xe0f5e1e2) return 'erofs';
    return 'unknown';
  } finally {
    await file.close();
  }
}

await runVmCase(t, 'verity', { boots: 1 }, async ({ machine, image }) => {
  const rootA = image.partition('root-a');
  const fs = await rootFilesystem(image, rootA.startBytes);
  const offsetInImage = fs === 'erofs' ? 0 : 1024;
  const length = 512;
  t.ok(offsetInImage + length <= 4096 && offsetInImage + length <= image.manifest.rootImage.sizeBytes, 'the bytes lie in the first verity data block');
  const before = await stat(image.qcow2);
  await machine.writePattern(rootA.startBytes + offsetInImage, length, 0x5a);
  const after = await stat(image.qcow2);
  t.same([after.size, after.mtimeMs], [before.size, before.mtimeMs], 'the built image stays pristine (qemu-io wrote the overlay)');
  t.comment(`root_fs=${fs} wrote 0x5a x ${length} at disk offset ${rootA.startBytes + offsetInImage} (root-a + ${offsetInImage})`);

  const vm = await machine.boot();
  const refusal = /BERTH-FAILED reason=\S+|device-mapper: verity: [^\r\n]*(?:corrupt|error|fail)[^\r\n]*/i;
  const found = await vm.waitFor(refusal, TIMEOUTS.bootMs, { failOn: [READY_PATTERN] });
  t.match(found.match[0], refusal, `the boot is refused: ${found.match[0]}`);

  // Keep watching (until QEMU ends or 30 s pass): the system must never come up.
  let cameUp: string | undefined;
  try {
    cameUp = (await vm.waitFor(READY_PATTERN, 30_000)).match[0];
  } catch (error) {
    if (!isBerthError(error, 'QEMU_TIMEOUT') && !isBerthError(error, 'QEMU_EXITED')) throw error;
  }
  t.equal(cameUp, undefined, 'no BERTH-READY: the modified root never came up');
  await vm.kill();
});
