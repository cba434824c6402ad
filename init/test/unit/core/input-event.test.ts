import t from 'tap';
import {
  EV_KEY,
  INPUT_EVENT_SIZE,
  KEY_POWER,
  createInputEventDecoder,
  decodeInputEvents,
  encodeInputEvent,
  isPowerButtonPress,
} from '../../../src/core/input-event.ts';

const press = { seconds: 1700000000, microseconds: 123456, type: EV_KEY, code: KEY_POWER, value: 1 };
const release = { ...press, value: 0 };
const syn = { ...press, type: 0, code: 0, value: 0 };

void t.test('decodes the 24-byte x86_64 struct input_event', (t) => {
  const bytes = new Uint8Array(INPUT_EVENT_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigInt64(0, 5n, true);
  view.setBigInt64(8, 6n, true);
  view.setUint16(16, 1, true);
  view.setUint16(18, 116, true);
  view.setInt32(20, 1, true);
  const { events, rest } = decodeInputEvents(bytes);
  t.same(events, [{ seconds: 5, microseconds: 6, type: 1, code: 116, value: 1 }]);
  t.equal(rest.byteLength, 0);
  t.ok(isPowerButtonPress(events[0]!));
  t.end();
});

void t.test('only a KEY_POWER key-down counts', (t) => {
  t.ok(isPowerButtonPress(press));
  t.notOk(isPowerButtonPress(release));
  t.notOk(isPowerButtonPress(syn));
  t.notOk(isPowerButtonPress({ ...press, code: 114 }));
  t.end();
});

void t.test('events split across reads are joined', (t) => {
  const stream = new Uint8Array([...encodeInputEvent(press), ...encodeInputEvent(syn), ...encodeInputEvent(release)]);
  const decode = createInputEventDecoder();
  const first = decode(stream.slice(0, 30));
  const second = decode(stream.slice(30, 50));
  const third = decode(stream.slice(50));
  t.same(first, [press]);
  t.same(second, [syn]);
  t.same(third, [release]);
  t.end();
});
