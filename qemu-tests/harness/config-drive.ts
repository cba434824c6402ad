/**
 * Provisioning inputs for the VM tests, made on the host the way an operator would: config
 * drives (a vfat image made with mtools, an iso9660 image made with xorriso, labelled for
 * cloud-init's NoCloud), and a copy of the built disk whose boot entries carry extra kernel
 * arguments (edited on the ESP with mtools, the product untouched). Effects: runs mformat,
 * mcopy, mtype, xorriso, qemu-img, cp; writes files under `dir`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { createExec, type Exec } from '../../lib/sys/exec.ts';
import type { BuiltImage } from '../../vm/src/index.ts';

const exec: Exec = createExec();
const HINT = 'install them with `apt-get install mtools xorriso` (scripts/setup-host.sh)';

async function run(file: string, args: readonly string[]): Promise<string> {
  try {
    return (await exec.run(file, args, { timeoutMs: 120_000 })).stdout;
  } catch (error) {
    throw new BerthError('QEMU_TOOL_MISSING', `${file} failed (${HINT})`, { cause: error });
  }
}

/** A 4 MiB vfat image labelled `label` holding `files` in its root (no partition table, as cloud config drives). */
export async function makeVfatDrive(dir: string, label: string, files: Record<string, string>): Promise<string> {
  await mkdir(join(dir, 'vfat-files'), { recursive: true });
  const image = join(dir, 'config-drive.vfat');
  await run('/usr/bin/mformat', ['-C', '-i', image, '-T', '8192', '-h', '2', '-s', '32', '-v', label, '::']);
  for (const [name, text] of Object.entries(files)) {
    const local = join(dir, 'vfat-files', name);
    await writeFile(local, text);
    await run('/usr/bin/mcopy', ['-i', image, local, `::/${name}`]);
  }
  return image;
}

/** An iso9660 image (Rock Ridge and Joliet names) with volume id `label` holding `files`. */
export async function makeIsoDrive(dir: string, label: string, files: Record<string, string>): Promise<string> {
  const root = join(dir, 'iso-files');
  await mkdir(root, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(root, name), text);
  const image = join(dir, 'config-drive.iso');
  await run('/usr/bin/xorriso', ['-as', 'mkisofs', '-quiet', '-volid', label, '-joliet', '-rock', '-output', image, root]);
  return image;
}

/** The boot entry's `options` line with `args` appended (pure). */
export function appendEntryOptions(entry: string, args: readonly string[]): string {
  if (!/^options /m.test(entry)) throw new BerthError('BOOT_ENTRY_INVALID', 'The boot entry has no options line to extend');
  return entry.replace(/^options (.*)$/m, (_line, options: string) => `options ${options} ${args.join(' ')}`);
}

/**
 * A copy of the built image whose boot entries have `args` added to their kernel command line:
 * disk.raw is copied (sparse), each entry in loader/entries on the ESP is rewritten with mtools at
 * the ESP's offset, and the result becomes the qcow2 base of the test machines.
 */
export async function imageWithKernelArgs(image: BuiltImage, dir: string, args: readonly string[]): Promise<BuiltImage> {
  if (image.raw === undefined) throw new BerthError('QEMU_IMAGE_INVALID', `The image in ${image.dir} has no disk.raw to copy`);
  await mkdir(dir, { recursive: true });
  const raw = join(dir, 'disk.raw');
  await run('/usr/bin/cp', ['--sparse=always', image.raw, raw]);
  const esp = `${raw}@@${image.partition('esp').startBytes}`;
  const listing = await run('/usr/bin/mdir', ['-b', '-i', esp, '::/loader/entries']);
  const entries = listing.split('\n').map((line) => line.trim()).filter((line) => line.endsWith('.conf'));
  if (entries.length === 0) throw new BerthError('QEMU_IMAGE_INVALID', `No boot entries on the ESP of ${raw}`);
  for (const path of entries) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const local = join(dir, name);
    await writeFile(local, appendEntryOptions(await run('/usr/bin/mtype', ['-i', esp, path]), args));
    await run('/usr/bin/mcopy', ['-o', '-i', esp, local, `::/loader/entries/${name}`]);
  }
  const qcow2 = join(dir, 'disk.qcow2');
  await run('/usr/bin/qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return { ...image, dir, qcow2, raw };
}
