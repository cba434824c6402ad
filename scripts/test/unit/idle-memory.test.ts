// The bench's idle-memory split, on a guest's /proc/meminfo (berth 5 s after READY, 2026-12-07)
// and a Linux 6.x /proc/zoneinfo with three zones and two CPUs.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { idleMemory, perCpuFreePages } from '../../bench/idle-memory.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const meminfo = fixture('guest-meminfo.txt');
const zoneinfo = fixture('zoneinfo.txt');

void t.test('per-CPU free pages: every zone\'s pagesets, every CPU, nothing else', async (t) => {
  const counts = [...zoneinfo.matchAll(/^\s+count:\s+(\d+)$/gm)].map((m) => Number(m[1]));
  t.equal(counts.length, 6, 'the fixture: 3 zones x 2 CPUs');
  t.equal(perCpuFreePages(zoneinfo), counts.reduce((a, b) => a + b, 0));
  t.ok(perCpuFreePages(zoneinfo) > 0, 'the fixture has pages on the lists');
  const extra = zoneinfo.replace('  pagesets', '  pages free     5\n        count:    999\n  pagesets');
  t.equal(perCpuFreePages(extra), perCpuFreePages(zoneinfo), 'a count: line outside pagesets is not added');
  t.throws(() => perCpuFreePages('Node 0, zone   Normal\n  pages free 5\n'), /no pagesets with a "count:" line/);
});

void t.test('the split adds up to MemTotal − MemAvailable', async (t) => {
  const lists = '  pagesets\n    cpu: 0\n              count:    1473\n    cpu: 1\n              count:    4900\n';
  const m = idleMemory(meminfo, `Node 0, zone   Normal\n${lists}`);
  t.equal(m.usedKb, 2014184 - 1817492);
  t.equal(m.anonKb, 25864);
  t.equal(m.kernelKb, 12724 + 1840 + 1244 + 9924 + 576, 'SUnreclaim + KernelStack + PageTables + VmallocUsed + Percpu');
  t.equal(m.perCpuFreeKb, (1473 + 4900) * 4);
  t.equal(m.restKb, m.usedKb - m.anonKb - m.kernelKb - m.perCpuFreeKb);
  t.equal(idleMemory(meminfo, `Node 0, zone   Normal\n${lists}`, 16).perCpuFreeKb, (1473 + 4900) * 16, 'the page size is a parameter');
});

void t.test('a meminfo without a field names it', async (t) => {
  t.throws(() => idleMemory(meminfo.replace(/^Percpu:.*\n/m, ''), zoneinfo), /no "Percpu:" line in kB/);
  t.throws(() => idleMemory(meminfo.replace(/^MemAvailable:.*\n/m, ''), zoneinfo), /no "MemAvailable:" line/);
});
