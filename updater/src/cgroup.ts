/**
 * Executes a throttle plan (core/throttle.ts) on the cgroup2 filesystem and moves the
 * slot writer into its group. Effects: mkdir and writes below the cgroup root only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import type { CgroupStep } from './core/throttle.ts';

/** Runs the steps in order; each failure names the file and the value it refused. */
export async function applyCgroupSteps(steps: readonly CgroupStep[]): Promise<void> {
  for (const step of steps) {
    try {
      if (step.kind === 'mkdir') await mkdir(step.path, { recursive: true });
      // One write per file: cgroupfs parses each write() as one command.
      else await writeFile(step.path, step.value, { flag: 'w' });
    } catch (error) {
      const what = step.kind === 'mkdir' ? `create ${step.path}` : `write "${step.value}" to ${step.path}`;
      throw new BerthError('UPDATER_CGROUP_FAILED', `Cannot ${what}; the kernel needs cgroup v2 with the io, cpu and memory controllers`, { cause: error });
    }
  }
}

/** Moves a process (the slot writer) into `groupPath`. */
export async function joinCgroup(groupPath: string, pid: number): Promise<void> {
  try {
    await writeFile(join(groupPath, 'cgroup.procs'), String(pid), { flag: 'w' });
  } catch (error) {
    throw new BerthError('UPDATER_CGROUP_FAILED', `Cannot move process ${pid} into ${groupPath}`, { cause: error });
  }
}
