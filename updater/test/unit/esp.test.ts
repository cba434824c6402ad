import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderBootEntry, type SlotBootEntry } from '../../../lib/boot-entry.ts';
import { isEspStep, listEntryNames, renameEntries, runEspStep } from '../../src/esp.ts';
import { planBless, planMarkBad, planStage, type EspEntryFile } from '../../src/core/slots.ts';
import { sampleManifest } from './fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const kernel = Buffer.from('kernel image v2 '.repeat(1000));
const initrd = Buffer.from('initrd v2 '.repeat(500));
const entryA: SlotBootEntry = { slot: 'a', version: '1.0.0', generation: 1, verity: { rootHash: 'ab'.repeat(32), dataBlocks: 10, hashStartBlock: 10, salt: '' }, kernelArgs: ['console=ttyS0'] };

function fixture(t: Test): { esp: string; bundle: string; entries: EspEntryFile[] } {
  const dir = t.testdir({
    esp: {
      loader: { entries: { 'berth-a.conf': renderBootEntry(entryA), 'berth-b+0-3.conf': 'old bad entry\n' } },
      berth: { a: { vmlinuz: 'kernel v1', 'initrd.img': 'initrd v1' }, b: { vmlinuz: 'old b kernel' } },
    },
    bundle: { vmlinuz: kernel, 'initrd.img': initrd },
  });
  return {
    esp: join(dir, 'esp'),
    bundle: join(dir, 'bundle'),
    entries: [{ name: 'berth-a.conf', text: renderBootEntry(entryA) }, { name: 'berth-b+0-3.conf', text: 'old bad entry\n' }],
  };
}

function manifest(): ReturnType<typeof sampleManifest> {
  const m = sampleManifest();
  m.payload.kernel = { path: 'vmlinuz', size: kernel.length, sha256: sha(kernel) };
  m.payload.initrd = { path: 'initrd.img', size: initrd.length, sha256: sha(initrd) };
  return m;
}

void t.test('the ESP steps of a stage plan leave the new entry last and the old slot untouched', async (t) => {
  const { esp, bundle, entries } = fixture(t);
  const plan = planStage({ bootedSlot: 'a', manifest: manifest(), entries, kernelArgs: ['console=ttyS0'] });
  const seen: string[][] = [];
  for (const step of plan.steps) {
    if (!isEspStep(step)) continue; // write-root / verify-root belong to the apply worker
    await runEspStep({ espRoot: esp, bundleDir: bundle }, step);
    seen.push(await listEntryNames(esp));
  }
  // After every step (a power cut can happen between any two): slot a's entry is there,
  // and slot b has an entry only at the very end.
  for (const [i, names] of seen.entries()) {
    t.ok(names.includes('berth-a.conf'), `fallback present after step ${i}`);
    t.equal(names.some((n) => n.startsWith('berth-b')), i === seen.length - 2 || i === seen.length - 1, `b entry only at the end (step ${i})`);
  }
  t.same(await listEntryNames(esp), ['berth-a.conf', 'berth-b+3.conf']);
  t.equal(await readFile(join(esp, 'loader/entries/berth-b+3.conf'), 'utf8'), renderBootEntry(plan.entry));
  t.same(await readFile(join(esp, 'berth/b/vmlinuz')), kernel);
  t.same(await readFile(join(esp, 'berth/b/initrd.img')), initrd);
  t.equal(await readFile(join(esp, 'berth/a/vmlinuz'), 'utf8'), 'kernel v1');
  t.same((await readdir(join(esp, 'berth/b'))).sort(), ['initrd.img', 'vmlinuz'], 'no temp files left');
});

void t.test('a payload that does not match the manifest never replaces the ESP file', async (t) => {
  const { esp, bundle, entries } = fixture(t);
  await writeFile(join(bundle, 'vmlinuz'), Buffer.concat([kernel.subarray(0, 100), Buffer.from('X'), kernel.subarray(101)]));
  const plan = planStage({ bootedSlot: 'a', manifest: manifest(), entries, kernelArgs: [] });
  const install = plan.steps.find((s) => s.kind === 'install-file' && s.target === 'berth/b/vmlinuz');
  if (!install || !isEspStep(install)) throw new Error('no kernel step');
  await t.rejects(runEspStep({ espRoot: esp, bundleDir: bundle }, install), { code: errorCode('UPDATER_HASH_MISMATCH') });
  t.equal(await readFile(join(esp, 'berth/b/vmlinuz'), 'utf8'), 'old b kernel');
  t.same((await readdir(join(esp, 'berth/b'))).sort(), ['vmlinuz']);
  await writeFile(join(bundle, 'vmlinuz'), kernel.subarray(0, 10));
  await t.rejects(runEspStep({ espRoot: esp, bundleDir: bundle }, install), { code: errorCode('UPDATER_PAYLOAD_TRUNCATED') });
});

void t.test('bless and mark-bad renames', async (t) => {
  const dir = t.testdir({ loader: { entries: { 'berth-a.conf': 'a', 'berth-b+2-1.conf': 'b' } } });
  await renameEntries(dir, planBless(await listEntryNames(dir), 'b'));
  t.same(await listEntryNames(dir), ['berth-a.conf', 'berth-b.conf']);
  await renameEntries(dir, planMarkBad(await listEntryNames(dir), 'b'));
  t.same(await listEntryNames(dir), ['berth-a.conf', 'berth-b+0.conf']);
  await t.rejects(renameEntries(dir, [{ from: 'loader/entries/nope.conf', to: 'loader/entries/x.conf' }]), { code: errorCode('UPDATER_ESP_WRITE_FAILED') });
  t.same(await listEntryNames(join(dir, 'missing')), []);
});

void t.test('paths outside the ESP are refused', async (t) => {
  const dir = t.testdir({});
  await t.rejects(runEspStep({ espRoot: dir, bundleDir: dir }, { kind: 'write-entry', slot: 'b', path: '../escape.conf', content: 'x' }), { code: errorCode('UPDATER_ESP_PATH') });
  await t.rejects(runEspStep({ espRoot: dir, bundleDir: dir }, { kind: 'install-file', source: '../../etc/passwd', size: 1, sha256: '0'.repeat(64), target: 'berth/b/vmlinuz' }), { code: errorCode('UPDATER_ESP_PATH') });
});
