// The native stage on the real gcc: every native/*.c compiles warning-free into a static
// executable, and two builds into separate caches give the same bytes (the root image's
// reproducibility depends on it); the second build with the same cache is a hit.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildCache } from '../../src/cache.ts';
import { buildNative, listNativeSources } from '../../src/steps/native.ts';
import type { BuildContext } from '../../src/steps/context.ts';
import { parseProfile } from '../../src/profile/profile.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Whether a 64-bit ELF file asks for a dynamic loader (has a PT_INTERP program header). */
function hasInterpreter(file: string): boolean {
  const elf = readFileSync(file);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const entsize = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) if (elf.readUInt32LE(phoff + i * entsize) === 3) return true;
  return false;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

void t.test('native helpers build static and byte-identical twice', async (t) => {
  const profile = parseProfile(readFileSync(path.join(repoRoot, 'image-builder/profiles/qemu.yaml'), 'utf8'), 'qemu.yaml');
  const ctx = (cacheDir: string): BuildContext => ({ profile, repoRoot, cache: new BuildCache(cacheDir), epoch: 1_700_000_000, log: (line) => t.comment(line) });
  const dirs = t.testdir({ a: {}, b: {} });
  const first = await buildNative(ctx(path.join(dirs, 'a')));
  const second = await buildNative(ctx(path.join(dirs, 'b')));
  t.same(first.names, (await listNativeSources(repoRoot)).map((s) => s.replace(/\.c$/, '')));
  t.ok(first.names.includes('berth-pid1'));
  t.equal(first.key, second.key, 'same key for the same inputs');
  for (const name of first.names) {
    const file = path.join(first.dir, name);
    t.equal(sha256(path.join(second.dir, name)), sha256(file), `${name}: same bytes`);
    t.equal(statSync(file).mode & 0o111, 0o111, `${name}: executable`);
    t.notOk(hasInterpreter(file), `${name}: static (no dynamic loader)`);
  }
  const again = await buildNative(ctx(path.join(dirs, 'a')));
  t.ok(again.cached, 'the second build with the same cache is a hit');
});
