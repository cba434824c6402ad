import t from 'tap';
import { dependantsFirst } from '../../src/engine.ts';

const c = (depends: string[] = [], network_mode = 'bridge') => ({ config: { depends_on: Object.fromEntries(depends.map((d) => [d, {}])), network_mode } });

void t.test('dependantsFirst stops what depends on others before them (depends_on and shared networks)', (t) => {
  const running = new Map([
    ['db', c()],
    ['web', c(['db'])],
    ['sidecar', c([], 'container:web')],
    ['other', c()],
  ]);
  t.same(dependantsFirst(running, ['db', 'web', 'sidecar']), [['sidecar'], ['web'], ['db']]);
  t.same(dependantsFirst(running, ['db', 'other']), [['db', 'other']]);
  t.same(dependantsFirst(running, ['web']), [['web']], 'only the named ones');
  t.same(dependantsFirst(running, []), []);
  t.end();
});

void t.test('dependantsFirst ends on a cycle (refused by the schema) by stopping the rest together', (t) => {
  const running = new Map([
    ['a', c(['b'])],
    ['b', c(['a'])],
  ]);
  t.same(dependantsFirst(running, ['a', 'b']), [['a', 'b']]);
  t.end();
});
