/**
 * The debug shell as data: which serial device, the stty and sh argv, its environment,
 * and the restart backoff. A root shell for tests in QEMU, off unless the machine
 * config asks for it. Pure.
 */
import { BerthError } from '../../../lib/errors.ts';
import { TOOLS } from './tools.ts';
import type { BackoffPolicy } from '../../../lib/retry.ts';

export interface DebugShellPlan {
  /** /dev/ttyS1 */
  device: string;
  sttyArgs: string[];
  shell: string;
  /** `+i`: non-interactive even though stdin is a tty (no prompts, no job control). */
  shellArgs: string[];
  env: Record<string, string>;
}

/** Plans the shell for `debug.shell` (a device name like ttyS1 or hvc0); undefined when off. */
export function planDebugShell(tty: string | undefined): DebugShellPlan | undefined {
  if (tty === undefined) return undefined;
  // lib/config validates the name; this guards the path built from it.
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(tty)) {
    throw new BerthError('CONFIG_INVALID', `debug.shell: expected a serial device name like ttyS1, got "${tty}"`);
  }
  const device = `/dev/${tty}`;
  return {
    device,
    sttyArgs: ['-F', device, 'raw', '-echo'],
    shell: TOOLS.sh,
    shellArgs: ['+i'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TERM: 'dumb', LANG: 'C.UTF-8', PS1: '', PS2: '' },
  };
}

/** The shell's restart schedule (lib/retry.ts): 0.5 s doubling to 30 s; a shell that ran 10 s starts over. */
export const SHELL_RESTART_POLICY = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0, resetAfterMs: 10_000 } as const satisfies BackoffPolicy;
