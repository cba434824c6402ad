/**
 * Decoding Linux input events (struct input_event on 64-bit: struct timeval as two
 * 64-bit fields, then u16 type, u16 code, s32 value: 24 bytes, little-endian on
 * x86_64) and recognising a power-button press. Pure.
 */

export const INPUT_EVENT_SIZE = 24;
export const EV_KEY = 1;
export const KEY_POWER = 116;
/** Name the ACPI button driver gives its input devices (sysfs device/name). */
export const POWER_BUTTON_NAME = 'Power Button';

export interface InputEvent {
  seconds: number;
  microseconds: number;
  type: number;
  code: number;
  value: number;
}

/** Decodes whole events from `bytes`; `rest` is an incomplete tail to prepend to the next read. */
export function decodeInputEvents(bytes: Uint8Array): { events: InputEvent[]; rest: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: InputEvent[] = [];
  let offset = 0;
  for (; offset + INPUT_EVENT_SIZE <= bytes.byteLength; offset += INPUT_EVENT_SIZE) {
    events.push({
      seconds: Number(view.getBigInt64(offset, true)),
      microseconds: Number(view.getBigInt64(offset + 8, true)),
      type: view.getUint16(offset + 16, true),
      code: view.getUint16(offset + 18, true),
      value: view.getInt32(offset + 20, true),
    });
  }
  return { events, rest: bytes.slice(offset) };
}

/** Encodes an event (for tests and fakes). */
export function encodeInputEvent(event: InputEvent): Uint8Array {
  const bytes = new Uint8Array(INPUT_EVENT_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigInt64(0, BigInt(event.seconds), true);
  view.setBigInt64(8, BigInt(event.microseconds), true);
  view.setUint16(16, event.type, true);
  view.setUint16(18, event.code, true);
  view.setInt32(20, event.value, true);
  return bytes;
}

/** A key-down of KEY_POWER (value 1; 0 is release, 2 autorepeat). */
export function isPowerButtonPress(event: InputEvent): boolean {
  return event.type === EV_KEY && event.code === KEY_POWER && event.value === 1;
}

/** Accumulates reads from one device and reports power-button presses. */
export function createInputEventDecoder(): (chunk: Uint8Array) => InputEvent[] {
  let pending: Uint8Array = new Uint8Array(0);
  return (chunk) => {
    const joined = new Uint8Array(pending.byteLength + chunk.byteLength);
    joined.set(pending, 0);
    joined.set(chunk, pending.byteLength);
    const { events, rest } = decodeInputEvents(joined);
    pending = rest;
    return events;
  };
}
