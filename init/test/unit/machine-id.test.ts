import t from 'tap';
import { PATHS } from '../../../lib/layout.ts';
import { stableMachineId } from '../../src/machine-id.ts';
import { createFakeFileSystem } from '../../src/sys/fakes.ts';

const ID = '0123456789abcdef0123456789abcdef';
const random = (): Buffer => Buffer.from('fedcba9876543210fedcba9876543210', 'hex');

void t.test("the image's /etc/machine-id wins", async (t) => {
  const fs = createFakeFileSystem({ '/etc/machine-id': `${ID}\n`, [PATHS.machineId]: 'fedcba9876543210fedcba9876543210\n' });
  t.same(await stableMachineId(fs, random), { id: ID, source: 'etc' });
  t.same(fs.ops, [], 'nothing written');
});

void t.test('without one, the first boot generates an id on /var and later boots read it back', async (t) => {
  const fs = createFakeFileSystem({}, ['/var/lib/berth']);
  const first = await stableMachineId(fs, random);
  t.same(first, { id: 'fedcba9876543210fedcba9876543210', source: 'generated' });
  t.equal(fs.files.get(PATHS.machineId), 'fedcba9876543210fedcba9876543210\n');
  const again = await stableMachineId(fs, () => Buffer.alloc(16, 1));
  t.same(again, { id: first.id, source: 'var' }, 'the same id at the next boot');
});

void t.test('an empty or malformed /etc/machine-id does not count', async (t) => {
  const fs = createFakeFileSystem({ '/etc/machine-id': '\n', [PATHS.machineId]: 'not an id\n' }, ['/var/lib/berth']);
  t.same(await stableMachineId(fs, random), { id: 'fedcba9876543210fedcba9876543210', source: 'generated' }, 'a malformed kept id is replaced');
});

void t.test('a write that fails is an error for the caller', async (t) => {
  const fs = createFakeFileSystem({});
  await t.rejects(stableMachineId(fs, random), { code: 'ENOENT' });
});
