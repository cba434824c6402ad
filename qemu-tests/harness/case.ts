/**
 * Glue between tap and the VM runner for the cases: one machine per test file, its
 * directory removed when the file passes and kept (console log path printed) when it
 * fails. Effects: those of vm.ts.
 */
import { relative } from 'node:path';
import type { Test } from 'tap';
import { describeError } from '../../lib/errors.ts';
import { type BuiltImage, createMachine, DEBUG_SHELL_CONFIG, loadImage, type Machine, type MachineOptions, REPO_ROOT, TIMEOUTS } from '../../vm/src/index.ts';

/** The parts of a tap test this module uses. */
export type TapLike = Pick<Test, 'passing' | 'comment' | 'fail' | 'setTimeout'>;

/** A finite but generous time limit for a test file that boots `boots` times. */
export function caseTimeoutMs(boots: number): number {
  return boots * (TIMEOUTS.bootMs + 180_000);
}

export interface CaseContext {
  machine: Machine;
  image: BuiltImage;
}

/**
 * Runs one VM test file: loads the built image (a missing image fails, saying how to
 * build it), creates the file's machine with the debug shell turned on, runs `body`, and
 * turns anything it throws into a failure. The machine directory is removed when the
 * file passes and kept, with its console log path printed, when it fails
 * (BERTH_QEMU_KEEP=1 keeps it always).
 */
export async function runVmCase(
  t: TapLike,
  name: string,
  options: Partial<Omit<MachineOptions, 'name' | 'image'>> & { boots: number; image?: BuiltImage },
  body: (context: CaseContext) => Promise<void>,
): Promise<void> {
  t.setTimeout(caseTimeoutMs(options.boots));
  const { boots: _boots, image: givenImage, ...rest } = options;
  let machine: Machine | undefined;
  let threw = false;
  try {
    const image = givenImage ?? (await loadImage());
    machine = await createMachine({ config: DEBUG_SHELL_CONFIG, ...rest, name, image });
    t.comment(`machine=${relative(REPO_ROOT, machine.paths.dir)} accel=${machine.accel} disk_bytes=${machine.diskBytes}`);
    await body({ machine, image });
  } catch (error) {
    threw = true;
    // The message carries what matters (the console tail); tap's stack parser mangles long messages.
    t.fail(describeError(error), { stack: '' });
  } finally {
    const failed = threw || !t.passing();
    if (machine) {
      await machine.dispose({ keep: failed || process.env.BERTH_QEMU_KEEP === '1' });
      if (failed) {
        // On stderr as well: a tap comment is easy to miss in a long failure report.
        const note = `console log kept: ${machine.paths.consoleLog} (QEMU's own output: ${machine.paths.qemuLog})`;
        t.comment(note);
        process.stderr.write(`${note}\n`);
      }
    }
  }
}
