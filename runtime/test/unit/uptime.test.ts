import t from 'tap';
import { createUptimeClock } from '../../src/uptime.ts';

void t.test('reads /proc/uptime once and advances with the monotonic clock', (t) => {
  let reads = 0;
  let mono = 1000;
  const clock = createUptimeClock(
    () => {
      reads += 1;
      return '12.34 45.67\n';
    },
    () => mono,
  );
  t.ok(clock, 'a clock where /proc/uptime is readable');
  t.equal(clock?.(), 12_340);
  mono += 250.4;
  t.equal(clock?.(), 12_590);
  t.equal(reads, 1, '/proc/uptime read once');
  t.end();
});

void t.test('no clock without a readable /proc/uptime', (t) => {
  t.equal(
    createUptimeClock(() => {
      throw new Error('ENOENT');
    }),
    undefined,
  );
  t.equal(createUptimeClock(() => 'garbage'), undefined);
  t.end();
});
