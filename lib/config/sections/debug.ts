/**
 * Machine config section `debug`: opt-in aids for tests and recovery. `debug.shell` names a serial
 * port on which init runs an unauthenticated root shell. Pure schema.
 */
import { object, string, type Shape } from '../validate.ts';

// Kernel names of serial ports: 8250 UARTs (ttyS), virtio/hypervisor consoles (hvc), PL011 (ttyAMA),
// USB serial adapters (ttyUSB, ttyACM).
const SERIAL_DEVICE = /^(?:ttyS|hvc|ttyAMA|ttyUSB|ttyACM)\d{1,3}$/;

/** A serial device name under /dev, such as ttyS1 or hvc0. */
export const serialDevice = string({ pattern: SERIAL_DEVICE, expected: 'a serial device name like "ttyS1" or "hvc0" (without /dev/)' });

/** `debug: { shell: <serial device> }`; everything off by default. */
export const debugSection = {
  debug: object({
    shell: serialDevice
      .refine((device, report) => {
        report(`an unauthenticated root shell will run on /dev/${device}; use it only for tests and recovery`, { warning: true });
      })
      .optional(),
  }).default(),
} satisfies Shape;
