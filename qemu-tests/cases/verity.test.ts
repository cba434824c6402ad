/**
 * A root image with a modified byte is refused: on a fresh overlay, overwrite bytes inside
 * the first 4 KiB of root-a's image (the erofs superblock at offset 1024) with qemu-io,
 * which writes only the overlay, then boot. The console must show the refusal
 * (BERTH-FAILED from the initramfs or a device-mapper verity error) and never BERTH-READY.
 */
import t from 'tap';
import { runVmCase } from '../harness/case.ts';
import { READY_PATTERN } from '../harness/markers.ts';
import { TIMEOUTS } from '../harness/vm.ts';
import { isBerthError } from '../../lib/errors.ts';

await runVmCase(t, 'verity', { boots: 1 }, async ({ machine, image }) => {
  const rootA = image.partition('root-a');
  const offsetInImage = 1024;
  const length = 512;
  t.ok(offsetInImage + length <= image.manifest.rootImage.sizeBytes, 'the modified bytes lie inside the root image data');
  await machine.writePattern(rootA.startBytes + offsetInImage, length, 0x5a);
  t.comment(`wrote 0x5a x ${length} at disk offset ${rootA.startBytes + offsetInImage} (root-a + ${offsetInImage})`);

  const vm = await machine.boot();
  const refusal = /BERTH-FAILED reason=\S+|device-mapper: verity[^\r\n]*/;
  const found = await vm.waitFor(refusal, TIMEOUTS.bootMs, { failOn: [READY_PATTERN] });
  t.pass(`the boot is refused: ${found.match[0]}`);

  // Keep watching (until QEMU ends or 30 s pass): the system must never come up.
  try {
    const late = await vm.waitFor(READY_PATTERN, 30_000);
    t.fail(`the modified root came up: ${late.match[0]}`);
  } catch (error) {
    if (isBerthError(error, 'QEMU_TIMEOUT') || isBerthError(error, 'QEMU_EXITED')) t.pass('no BERTH-READY');
    else throw error;
  }
  await vm.kill();
});
