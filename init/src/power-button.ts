/**
 * The ACPI power button: every /dev/input/eventN whose device is named "Power Button"
 * is read as a stream of input_event structs; a KEY_POWER press calls `onPress`.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { POWER_BUTTON_NAME, createInputEventDecoder, isPowerButtonPress } from './core/input-event.ts';
import { KERNEL_PATHS } from './core/tools.ts';
import type { StreamHandle, Sys } from './sys/types.ts';

/** Names (eventN) of the input devices that are power buttons. */
export async function findPowerButtons(fs: Sys['fs']): Promise<string[]> {
  const found: string[] = [];
  for (const name of await fs.readDir(KERNEL_PATHS.sysClassInput)) {
    if (!/^event\d+$/.test(name)) continue;
    try {
      const deviceName = await fs.readText(`${KERNEL_PATHS.sysClassInput}/${name}/device/name`);
      if (deviceName.trim() === POWER_BUTTON_NAME) found.push(name);
    } catch {
      // Not every input device has a name.
    }
  }
  return found;
}

export async function watchPowerButtons(sys: Pick<Sys, 'fs' | 'devices'>, logger: Logger, onPress: () => void): Promise<StreamHandle> {
  const names = await findPowerButtons(sys.fs);
  if (names.length === 0) logger.warn('No power button input device', { looked_in: KERNEL_PATHS.sysClassInput });
  const handles = names.map((name) => {
    const path = `/dev/input/${name}`;
    const decode = createInputEventDecoder();
    logger.info('Watching power button', { device: path });
    return sys.devices.readStream(
      path,
      (chunk) => {
        if (decode(chunk).some(isPowerButtonPress)) {
          logger.info('Power button pressed', { device: path });
          onPress();
        }
      },
      (error) => logger.warn('Power button stream ended', { device: path, error: error === undefined ? undefined : describeError(error) }),
    );
  });
  return {
    close() {
      for (const handle of handles) handle.close();
    },
  };
}
