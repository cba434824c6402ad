/**
 * This host's stable id, for its FleetLock client id and its place in rollout waves: the
 * image's /etc/machine-id when it has one, else an id generated at the first boot and kept in
 * /var/lib/berth/machine-id (the root image ships none). It must survive reboots and updates: a
 * FleetLock lock taken before the reboot into an update is given back after it under the same id.
 * Effects: reads both files, writes the second once.
 */
import { randomBytes } from 'node:crypto';
import { PATHS } from '../../lib/layout.ts';
import type { FileSystem } from './sys/types.ts';

const ID = /^[0-9a-f]{32}$/;

async function readId(fs: Pick<FileSystem, 'readText'>, path: string): Promise<string | undefined> {
  const text = (await fs.readText(path).catch(() => '')).trim();
  return ID.test(text) ? text : undefined;
}

/** The id and where it came from; `generated` when this boot wrote it. */
export async function stableMachineId(
  fs: Pick<FileSystem, 'readText' | 'writeAtomic'>,
  random: () => Buffer = () => randomBytes(16),
): Promise<{ id: string; source: 'etc' | 'var' | 'generated' }> {
  const etc = await readId(fs, '/etc/machine-id');
  if (etc !== undefined) return { id: etc, source: 'etc' };
  const kept = await readId(fs, PATHS.machineId);
  if (kept !== undefined) return { id: kept, source: 'var' };
  const id = random().toString('hex');
  await fs.writeAtomic(PATHS.machineId, `${id}\n`);
  return { id, source: 'generated' };
}
