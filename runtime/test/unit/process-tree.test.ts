import t from 'tap';
import { isExited, parentPidOf, processTree } from '../../src/core/process-tree.ts';

void t.test('parentPidOf reads field 4 past a command name with spaces and parentheses', (t) => {
  t.equal(parentPidOf('412 (sh) S 400 412 412 0 -1 4194560 107 0 0 0'), 400);
  t.equal(parentPidOf('77 (my (odd) name) R 12 77 77 0'), 12);
  t.equal(parentPidOf('1 (init) S 0 1 1 0'), 0);
  t.equal(parentPidOf('garbage'), undefined);
  t.equal(parentPidOf('5 (x) S notanumber'), undefined);
  t.end();
});

void t.test('isExited is true for zombies and dead tasks only', (t) => {
  t.ok(isExited('9 (yes) Z 8 9 9'));
  t.ok(isExited('9 (y) s) X 8 9 9'));
  t.notOk(isExited('9 (yes) R 8 9 9'));
  t.notOk(isExited('9 (Z) S 8 9 9'), 'a command named Z is not a zombie');
  t.end();
});

void t.test('processTree lists the root and every descendant, parents first', (t) => {
  // 1 ─ 100 (crun exec) ; 1 ─ 200 (probe sh) ─ 201 (yes), 202 (sh) ─ 203 (yes); 300 unrelated
  const parents = new Map<number, number>([
    [1, 0],
    [100, 1],
    [200, 1],
    [202, 200],
    [201, 200],
    [203, 202],
    [300, 1],
  ]);
  t.same(processTree(200, parents), [200, 201, 202, 203]);
  t.same(processTree(203, parents), [203], 'a leaf is alone');
  t.same(processTree(999, parents), [999], 'an exited root is still named (signalling it is harmless)');
  t.end();
});

void t.test('processTree survives a cycle from pid reuse between reads', (t) => {
  const parents = new Map<number, number>([
    [10, 11],
    [11, 10],
    [12, 12],
  ]);
  t.same(processTree(10, parents), [10, 11]);
  t.same(processTree(12, parents), [12], 'a process is not its own child');
  t.end();
});
