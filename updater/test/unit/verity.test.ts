import t from 'tap';
import { createHash } from 'node:crypto';
import { VerityTreeBuilder, verityRootHashOfTree } from '../../src/core/verity.ts';

// Vectors made on the build host with:
//   veritysetup format --no-superblock --hash=sha256 --data-block-size=4096 \
//     --hash-block-size=4096 --salt=aa..aa --hash-offset=<data bytes> img img
function data(blocks: number, pattern: (i: number) => number): Buffer {
  const b = Buffer.alloc(blocks * 4096);
  for (let i = 0; i < b.length; i++) b[i] = pattern(i);
  return b;
}
const salt = 'aa'.repeat(32);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

void t.test('one-level tree matches veritysetup', (t) => {
  const builder = new VerityTreeBuilder(salt);
  const bytes = data(3, (i) => i % 251);
  // Odd chunk sizes: blocks span chunks.
  for (let off = 0; off < bytes.length; off += 1000) builder.update(bytes.subarray(off, off + 1000));
  const { rootHash, tree } = builder.finish();
  t.equal(rootHash, '271ec4f796f9090c044280ce8a39c710ba83b967c34e7aa6acd8ce38f2274404');
  t.equal(tree.length, 4096);
  t.equal(sha(tree), '23ced78d0d0d484c4b3a96f340d705f98a6c8f6761382256cd8681d3c5a431f4');
  t.equal(verityRootHashOfTree(tree, salt), rootHash);
  t.equal(builder.blocks, 3);
  t.end();
});

void t.test('two-level tree matches veritysetup (top level stored first)', (t) => {
  const builder = new VerityTreeBuilder(salt);
  builder.update(data(300, (i) => (i * 7) % 253));
  const { rootHash, tree } = builder.finish();
  t.equal(rootHash, 'bd5c5d2fe1363f47f5501726d3b83474379bbd3bff1bdba86dd38bda52fc141f');
  t.equal(tree.length, 4 * 4096);
  t.equal(sha(tree), 'e33dccee75bd2439bc53a1f6d1193316856f8ec31fa20d7a95455c618a16180e');
  t.end();
});

void t.test('partial blocks and empty data are refused', (t) => {
  const partial = new VerityTreeBuilder(salt);
  partial.update(Buffer.alloc(100));
  t.throws(() => partial.finish(), RangeError);
  t.throws(() => new VerityTreeBuilder(salt).finish(), RangeError);
  t.end();
});
