import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestFile } from '../../sys/file-digest.ts';

void t.test('digestFile gives the size and hex sha256 of a file', async (t) => {
  const dir = t.testdir({ empty: '' });
  t.same(await digestFile(join(dir, 'empty')), { size: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  // Larger than one read chunk, so the hash spans several chunks.
  const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
  await writeFile(join(dir, 'big'), data);
  t.same(await digestFile(join(dir, 'big')), { size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  await t.rejects(digestFile(join(dir, 'missing')), { code: 'ENOENT' });
});
