import t from 'tap';
import { chooseBlessAction } from '../../../src/core/bless.ts';

void t.test('renames the counted entry of the booted slot', (t) => {
  t.same(chooseBlessAction(['berth-a+2-1.conf', 'berth-b+3.conf'], 'a'), { kind: 'rename', from: 'berth-a+2-1.conf', to: 'berth-a.conf' });
  t.same(chooseBlessAction(['berth-a.conf', 'berth-b+0-3.conf'], 'b'), { kind: 'rename', from: 'berth-b+0-3.conf', to: 'berth-b.conf' });
  t.end();
});

void t.test('leaves a blessed entry alone', (t) => {
  t.same(chooseBlessAction(['berth-a.conf', 'berth-b+3.conf'], 'a'), { kind: 'none', reason: 'already-blessed' });
  t.end();
});

void t.test('reports a missing entry and ignores foreign files', (t) => {
  t.same(chooseBlessAction(['other+3.conf', 'berth-b.conf', 'berth-a.conf.tmp'], 'a'), { kind: 'none', reason: 'no-entry' });
  t.end();
});

void t.test('a fresh counted entry replaces an older blessed one', (t) => {
  t.same(chooseBlessAction(['berth-a.conf', 'berth-a+2-1.conf'], 'a'), { kind: 'rename', from: 'berth-a+2-1.conf', to: 'berth-a.conf' });
  t.end();
});
