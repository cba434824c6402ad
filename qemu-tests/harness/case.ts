/**
 * Glue between tap and the VM runner for the cases: one machine per test file, its
 * directory removed when the file passes and kept (console log path printed) when it
 * fails. Effects: those of vm.ts.
 */
import { relative } from 'node:path';
import { REPO_ROOT, loadImage, type BuiltImage } from './image.ts';
import { createMachine, DEBUG_SHELL_CONFIG, TIMEOUTS, type Machine, type MachineOptions } from './vm.ts';

/** The parts of a tap test this module uses. */
export interface TapLike {
  passing(): boolean;
  comment(...message: unknown[]): void;
  teardown(fn: () => unknown): void;
  setTimeout(ms: number): void;
}

/** A finite but generous time limit for a test file that boots `boots` times. */
export function caseTimeoutMs(boots: number): number {
  return boots * (TIMEOUTS.bootMs + 180_000);
}

/**
 * Loads the built image and creates the file's machine with the debug shell config.
 * Set BERTH_QEMU_KEEP=1 to keep the machine directory even when the test passes.
 */
export async function setUpMachine(
  t: TapLike,
  name: string,
  options: Partial<Omit<MachineOptions, 'name'>> & { boots: number },
): Promise<{ machine: Machine; image: BuiltImage }> {
  t.setTimeout(caseTimeoutMs(options.boots));
  const image = options.image ?? (await loadImage());
  const { boots: _boots, ...rest } = options;
  const machine = await createMachine({ config: DEBUG_SHELL_CONFIG, ...rest, name, image });
  t.comment(`machine=${relative(REPO_ROOT, machine.paths.dir)} accel=${machine.accel} disk_bytes=${machine.diskBytes}`);
  t.teardown(async () => {
    const keep = !t.passing() || process.env.BERTH_QEMU_KEEP === '1';
    await machine.dispose({ keep });
    if (!t.passing()) {
      // Printed on stderr as well: a tap comment can be lost when the file times out.
      const note = `console log kept: ${machine.paths.consoleLog} (QEMU's own output: ${machine.paths.qemuLog})`;
      t.comment(note);
      process.stderr.write(`${note}\n`);
    }
  });
  return { machine, image };
}
