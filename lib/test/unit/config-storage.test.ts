import t from 'tap';
import { loadMachineConfig } from '../../config/machine-config.ts';
import { machineConfigProblemsOf } from './config-errors.ts';

void t.test('storage.reserve: absent by default (10% of /var, at most 1 GiB)', (t) => {
  t.same(loadMachineConfig('', 'c').config.storage, {});
  t.same(loadMachineConfig('storage: {}', 'c').config.storage, {});
  t.end();
});

void t.test('storage.reserve takes a size, a number of bytes, a percentage or 0', (t) => {
  const reserve = (value: string): unknown => loadMachineConfig(`storage:\n  reserve: ${value}\n`, 'c').config.storage.reserve;
  t.same(reserve('2G'), { bytes: 2 * 1024 ** 3 });
  t.same(reserve('512M'), { bytes: 512 * 1024 ** 2 });
  t.same(reserve('"1.5GiB"'), { bytes: 1.5 * 1024 ** 3 });
  t.same(reserve('4096'), { bytes: 4096 });
  t.same(reserve('0'), { bytes: 0 }, '0 turns the reserve off');
  t.same(reserve('5%'), { percent: 5 });
  t.same(reserve('"12.5 %"'), { percent: 12.5 });
  t.same(reserve('90%'), { percent: 90 });
  t.end();
});

void t.test('a bad reserve and an unknown storage key are errors with their paths', (t) => {
  t.match(machineConfigProblemsOf('storage:\n  reserve: lots\n'), [/^storage\.reserve: expected a size like "2G" or "512M", or a share of \/var like "5%"/]);
  t.match(machineConfigProblemsOf('storage:\n  reserve: 95%\n'), [/^storage\.reserve: a reserve of 95% leaves too little of \/var for images; use at most 90%/]);
  t.match(machineConfigProblemsOf('storage:\n  reserve: -1\n'), [/^storage\.reserve: expected/]);
  t.match(machineConfigProblemsOf('storage:\n  reserve: [1G]\n'), [/^storage\.reserve: expected/]);
  t.match(machineConfigProblemsOf('storage:\n  reserv: 1G\n'), [/^storage\.reserv: unknown key/]);
  t.end();
});
