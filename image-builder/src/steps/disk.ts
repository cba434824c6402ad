/**
 * Stages 7 and 8: the EFI system partition (systemd-boot from Debian's
 * systemd-boot-efi, one Type #1 entry per slot with boot counting) and the GPT disk,
 * assembled from partition images without loop devices or mounts (mkfs.vfat on a
 * file, mtools, sfdisk on the disk file, dd at offsets). Effects: those tools.
 */
import { createHash } from 'node:crypto';
import { cp, writeFile, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { renderBootEntry, renderLoaderConf, type SlotBootEntry, type VerityParams } from '../../../lib/boot-entry.ts';
import { BOOT_TRIES, DATA_FILESYSTEM_LABEL, ESP_PATHS, SLOTS, bootEntryFileName, espInitrdPath, espKernelPath, type Slot } from '../../../lib/layout.ts';
import { planDisk, renderSfdiskScript, type DiskPlan } from '../plan/partitions.ts';
import type { BuildContext } from './context.ts';

export const SYSTEMD_BOOT_EFI = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';

/** The initial entries: both slots hold the same root; slot a is preferred (newer generation). */
export function initialBootEntries(version: string, verity: VerityParams, kernelArgs: readonly string[]): SlotBootEntry[] {
  const generation: Record<Slot, number> = { a: 2, b: 1 };
  return SLOTS.map((slot) => ({ slot, version, generation: generation[slot], verity, kernelArgs }));
}

async function makeEsp(ctx: BuildContext, file: string, sizeBytes: number, kernel: string, initrd: string, entries: SlotBootEntry[], work: string): Promise<void> {
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  const volumeId = createHash('sha256').update(`${ctx.profile.name}-${ctx.profile.version}`).digest('hex').slice(0, 8);
  await rm(file, { force: true });
  await $`mkfs.vfat -C -n ESP -i ${volumeId} ${file} ${sizeBytes / 1024}`.quiet();
  const dirs = ['EFI', 'EFI/BOOT', 'EFI/systemd', 'loader', ESP_PATHS.entriesDir, 'berth', ...SLOTS.map((s) => `berth/${s}`)];
  for (const d of dirs) await $({ env })`mmd -i ${file} ${`::/${d}`}`;
  const put = async (src: string, dest: string): Promise<void> => {
    await $({ env })`mcopy -i ${file} -o ${src} ${`::/${dest}`}`;
  };
  await put(SYSTEMD_BOOT_EFI, ESP_PATHS.fallbackBoot);
  await put(SYSTEMD_BOOT_EFI, ESP_PATHS.systemdBoot);
  for (const slot of SLOTS) {
    await put(kernel, espKernelPath(slot));
    await put(initrd, espInitrdPath(slot));
  }
  const loaderConf = path.join(work, 'loader.conf');
  await writeFile(loaderConf, renderLoaderConf());
  await put(loaderConf, ESP_PATHS.loaderConf);
  for (const entry of entries) {
    const name = bootEntryFileName(entry.slot, { triesLeft: BOOT_TRIES, triesDone: 0 });
    const local = path.join(work, name);
    await writeFile(local, renderBootEntry(entry));
    await put(local, `${ESP_PATHS.entriesDir}/${name}`);
  }
}

/**
 * The data partition's ext4 holding /lib/berth/preload/<name>/ (the OCI layouts of the profile),
 * made with `mkfs.ext4 -d` on a file: no mounts. init then finds an ext4, checks and grows it.
 */
async function makePreloadedData(ctx: BuildContext, file: string, sizeBytes: number, work: string): Promise<void> {
  const staging = path.join(work, 'data-staging');
  await rm(staging, { recursive: true, force: true });
  for (const item of ctx.profile.preload) {
    const source = path.resolve(ctx.repoRoot, item.ociLayout);
    await cp(source, path.join(staging, 'lib/berth/preload', item.name), { recursive: true, dereference: false, errorOnExist: true, force: false });
  }
  // Derived from the inputs, so the same profile gives the same filesystem UUID. 4 KiB blocks as
  // init's first-boot mkfs would choose for a grown partition (a small file would get 1 KiB).
  const uuidHex = createHash('sha256').update(`${ctx.profile.name}-${ctx.profile.version}-data`).digest('hex');
  const uuid = `${uuidHex.slice(0, 8)}-${uuidHex.slice(8, 12)}-4${uuidHex.slice(13, 16)}-8${uuidHex.slice(17, 20)}-${uuidHex.slice(20, 32)}`;
  await rm(file, { force: true });
  await $`truncate -s ${sizeBytes} ${file}`;
  await $({ env: { ...process.env, E2FSPROGS_FAKE_TIME: String(ctx.epoch) } })`mkfs.ext4 -q -F -b 4096 -T default -L ${DATA_FILESYSTEM_LABEL} -U ${uuid} -E ${`root_owner=0:0,hash_seed=${uuid}`} -d ${staging} ${file}`;
  await rm(staging, { recursive: true, force: true });
}

async function writeAt(disk: string, image: string, offsetBytes: number): Promise<void> {
  await $`dd if=${image} of=${disk} bs=1M seek=${offsetBytes / (1024 * 1024)} conv=notrunc,sparse status=none`;
}

export interface DiskArtifacts {
  raw: string;
  qcow2: string;
  esp: string;
  plan: DiskPlan;
  entries: SlotBootEntry[];
}

export async function buildDisk(
  ctx: BuildContext,
  outDir: string,
  inputs: { rootImage: string; rootImageBytes: number; verity: VerityParams; kernel: string; initrd: string },
): Promise<DiskArtifacts> {
  const sizes = ctx.profile.partitions;
  if (inputs.rootImageBytes > sizes.root) {
    throw new Error(`The root image (${inputs.rootImageBytes} bytes) does not fit a ${sizes.root}-byte root slot: raise partitions.root in the profile`);
  }
  const plan = planDisk(sizes, `${ctx.profile.name}-${inputs.verity.rootHash}`);
  const work = path.join(outDir, '.work');
  await mkdir(work, { recursive: true });
  const entries = initialBootEntries(ctx.profile.version, inputs.verity, ctx.profile.kernelArgs);
  const esp = path.join(outDir, 'esp.img');
  const part = (label: string) => plan.partitions.find((p) => p.label === label) as DiskPlan['partitions'][number];
  await makeEsp(ctx, esp, part('esp').sizeBytes, inputs.kernel, inputs.initrd, entries, work);

  const raw = path.join(outDir, 'disk.raw');
  await rm(raw, { force: true });
  await $`truncate -s ${plan.sizeBytes} ${raw}`;
  await $({ input: renderSfdiskScript(plan) })`sfdisk --quiet --no-reread --no-tell-kernel ${raw}`;
  await writeAt(raw, esp, part('esp').startBytes);
  await writeAt(raw, inputs.rootImage, part('root-a').startBytes);
  await writeAt(raw, inputs.rootImage, part('root-b').startBytes);
  if (ctx.profile.preload.length > 0) {
    const data = path.join(work, 'data.img');
    await makePreloadedData(ctx, data, part('data').sizeBytes, work);
    await writeAt(raw, data, part('data').startBytes);
  }
  // Otherwise the data partition stays blank: init makes its filesystem on first boot.
  const qcow2 = path.join(outDir, 'disk.qcow2');
  await rm(qcow2, { force: true });
  await $`qemu-img convert -f raw -O qcow2 ${raw} ${qcow2}`;
  await rm(work, { recursive: true, force: true });
  return { raw, qcow2, esp, plan, entries };
}
