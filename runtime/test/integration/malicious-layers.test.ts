// The corpus of hostile layers: each one is generated here, run through the real unpacker
// on the host, and must be refused with its own code, write nothing outside the target
// (a canary directory beside the store is compared byte for byte), and leave no partial
// layer behind.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { unpackLayer, type UnpackOptions } from '../../src/store/unpack.ts';
import { spawnZstdDecoder } from '../../src/store/decompress.ts';
import type { LayerErrorCode } from '../../src/core/layer-entry.ts';
import { gzip, packTar, rawFile, rawGnuLongName, rawHeader, rawPax, rawTar, streamOf, zstd, END_OF_ARCHIVE } from './tar-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const DIGEST = `sha256:${'ab12'.repeat(16)}`;

interface Attack {
  name: string;
  code: LayerErrorCode;
  /** Builds the layer blob; `canary` is the absolute path of the directory attacks aim at. */
  build: (canary: string) => Promise<Buffer> | Buffer;
  options?: Partial<UnpackOptions>;
  /** Text the message must contain (beyond the layer digest). */
  mentions?: string;
}

const MiB = 1024 * 1024;

const attacks: Attack[] = [
  { name: 'dot-dot path escaping the root', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: "entry '../../etc/passwd' escapes the root",
    build: () => packTar([{ name: '../../etc/passwd', body: 'pwned' }]) },
  { name: 'dot-dot aimed at the canary', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'),
    build: () => packTar([{ name: '../../../canary/secret', body: 'pwned' }]) },
  { name: 'dot-dot hidden mid-path', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: 'escapes the root',
    build: () => packTar([{ name: 'usr/../../../../canary/new', body: 'pwned' }]) },
  { name: 'dot-dot that stays inside (still refused)', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: "'..' component",
    build: () => packTar([{ name: 'usr/../etc/motd', body: 'x' }]) },
  { name: 'absolute path', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: 'is an absolute path',
    // Raw pax: tar-stream's packer silently drops the leading '/' of long names.
    build: (canary) => rawTar(rawPax({ path: `${canary}/absolute` }), rawFile('relative', 'pwned')) },
  { name: 'absolute path in a plain ustar header', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: "entry '/berth-never-written'",
    build: () => rawTar(rawFile('/berth-never-written', 'pwned')) },
  { name: 'pax path overriding a harmless ustar name', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'),
    build: () => rawTar(rawPax({ path: '../../../canary/pax' }), rawFile('harmless', 'pwned')) },
  { name: 'GNU long name escaping', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'),
    build: () => rawTar(rawGnuLongName(`${'a/'.repeat(60)}${'../'.repeat(64)}canary/long`), rawFile('short', 'pwned')) },
  { name: 'NUL byte in a pax path', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: 'NUL',
    build: () => rawTar(rawPax({ path: Buffer.from('etc/passwd\0/../../x') }), rawFile('x', 'pwned')) },
  { name: 'over-long path component', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: 'longer than 255',
    build: () => packTar([{ name: `d/${'n'.repeat(300)}`, body: 'x' }]) },
  { name: 'symlink to the canary, then a file written through it', code: errorCode('RUNTIME_LAYER_SYMLINK_TRAVERSAL'), mentions: "through symlink 'evil'",
    build: (canary) => packTar([{ name: 'evil', type: 'symlink', linkname: canary }, { name: 'evil/pwned', body: 'pwned' }]) },
  { name: 'relative symlink climbing out, then a file through it', code: errorCode('RUNTIME_LAYER_SYMLINK_TRAVERSAL'),
    build: () => packTar([{ name: 'up', type: 'symlink', linkname: '../../../canary' }, { name: 'up/pwned', body: 'pwned' }]) },
  { name: 'symlink chain, then a directory through it', code: errorCode('RUNTIME_LAYER_SYMLINK_TRAVERSAL'),
    build: (canary) => packTar([
      { name: 'b', type: 'symlink', linkname: canary },
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'a/newdir', type: 'directory' },
    ]) },
  { name: 'symlink planted deep, then a hard link placed through it', code: errorCode('RUNTIME_LAYER_SYMLINK_TRAVERSAL'),
    build: (canary) => packTar([
      { name: 'f', body: 'data' },
      { name: 'usr/lib', type: 'symlink', linkname: canary },
      { name: 'usr/lib/linked', type: 'link', linkname: 'f' },
    ]) },
  { name: 'symlink, then a file of the same name (write through the final component)', code: errorCode('RUNTIME_LAYER_DUPLICATE_ENTRY'),
    build: (canary) => packTar([{ name: 'x', type: 'symlink', linkname: `${canary}/secret` }, { name: 'x', body: 'pwned' }]) },
  { name: 'hard link to a host file via ..', code: errorCode('RUNTIME_LAYER_UNSAFE_LINK'), mentions: "'../../../canary/secret'",
    build: () => packTar([{ name: 'hl', type: 'link', linkname: '../../../canary/secret' }]) },
  { name: 'hard link to an absolute host path', code: errorCode('RUNTIME_LAYER_UNSAFE_LINK'),
    build: (canary) => packTar([{ name: 'hl', type: 'link', linkname: `${canary}/secret` }]) },
  { name: 'hard link to a path not in the layer', code: errorCode('RUNTIME_LAYER_UNSAFE_LINK'), mentions: 'not an earlier entry',
    build: () => packTar([{ name: 'hl', type: 'link', linkname: 'etc/shadow' }]) },
  { name: 'hard link to a directory', code: errorCode('RUNTIME_LAYER_UNSAFE_LINK'), mentions: 'is a directory',
    build: () => packTar([{ name: 'etc', type: 'directory' }, { name: 'hl', type: 'link', linkname: 'etc' }]) },
  { name: 'hard link through pax linkpath escaping', code: errorCode('RUNTIME_LAYER_UNSAFE_LINK'),
    build: () => rawTar(rawPax({ linkpath: '../../../canary/secret' }), rawHeader({ name: 'hl', typeflag: '1', linkname: 'ok' })) },
  { name: 'hard link, then a file overwriting the shared inode', code: errorCode('RUNTIME_LAYER_DUPLICATE_ENTRY'),
    build: () => packTar([{ name: 'f', body: 'original' }, { name: 'hl', type: 'link', linkname: 'f' }, { name: 'hl', body: 'pwned' }]) },
  { name: 'duplicate regular file', code: errorCode('RUNTIME_LAYER_DUPLICATE_ENTRY'), mentions: 'appears twice',
    build: () => packTar([{ name: 'etc/motd', body: 'one' }, { name: 'etc/motd', body: 'two' }]) },
  { name: 'file below a file', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: 'not a directory',
    build: () => packTar([{ name: 'f', body: 'x' }, { name: 'f/g', body: 'y' }]) },
  { name: 'character device', code: errorCode('RUNTIME_LAYER_DEVICE_NOT_ALLOWED'), mentions: 'char device 1:1',
    build: () => packTar([{ name: 'dev/mem', type: 'character-device', devmajor: 1, devminor: 1 }]) },
  { name: 'block device', code: errorCode('RUNTIME_LAYER_DEVICE_NOT_ALLOWED'),
    build: () => packTar([{ name: 'dev/vda', type: 'block-device', devmajor: 254, devminor: 0 }]) },
  { name: 'whiteout of ..', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'), mentions: "whites out '..'",
    build: () => packTar([{ name: 'etc/.wh...' }]) },
  { name: 'whiteout of .', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'),
    build: () => packTar([{ name: '.wh..' }]) },
  { name: 'whiteout that is a directory with content', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'),
    build: () => packTar([{ name: '.wh.etc', type: 'directory' }, { name: '.wh.etc/passwd', body: 'x' }]) },
  { name: 'whiteout that is a symlink', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'), mentions: 'not a plain file',
    build: (canary) => packTar([{ name: 'usr/.wh.lib', type: 'symlink', linkname: canary }]) },
  { name: 'whiteout of a file the same layer creates', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'), mentions: 'creates',
    build: () => packTar([{ name: 'etc/passwd', body: 'x' }, { name: 'etc/.wh.passwd' }]) },
  { name: 'entries below a path the same layer whites out', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'),
    build: () => packTar([{ name: '.wh.opt' }, { name: 'opt/app', body: 'x' }]) },
  { name: 'aufs hard-link metadata', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'), mentions: 'below whiteout name',
    build: () => packTar([{ name: '.wh..wh.plnk/1234.5678', body: 'x' }]) },
  { name: 'aufs marker file', code: errorCode('RUNTIME_LAYER_BAD_WHITEOUT'), mentions: 'aufs',
    build: () => packTar([{ name: '.wh..wh.aufs' }]) },
  { name: 'forged overlay xattr', code: errorCode('RUNTIME_LAYER_UNSAFE_XATTR'), mentions: 'trusted.overlay.redirect',
    build: () => rawTar(rawPax({ 'SCHILY.xattr.trusted.overlay.redirect': '/etc' }), rawHeader({ name: 'd', typeflag: '5', mode: 0o755 })) },
  { name: 'layer root replaced by a symlink', code: errorCode('RUNTIME_LAYER_UNSAFE_PATH'), mentions: 'layer root',
    build: (canary) => packTar([{ name: './', type: 'symlink', linkname: canary }]) },
  { name: 'GNU sparse entry (unsupported type)', code: errorCode('RUNTIME_LAYER_UNSUPPORTED_ENTRY'),
    build: () => rawTar(rawHeader({ name: 'sparse', typeflag: 'S', size: 0 })) },
  { name: 'gzip bomb: one 64 MiB file against a 1 MiB limit', code: errorCode('RUNTIME_LAYER_TOO_LARGE'), options: { maxUnpackedBytes: MiB },
    build: () => gzip(rawTar(rawFile('zeros', Buffer.alloc(64 * MiB)))) },
  { name: 'zstd bomb through the spawned decoder', code: errorCode('RUNTIME_LAYER_TOO_LARGE'),
    options: { maxUnpackedBytes: MiB, decompress: { zstd: () => spawnZstdDecoder() } },
    build: () => zstd(rawTar(rawFile('zeros', Buffer.alloc(64 * MiB)))) },
  { name: 'header declaring a terabyte', code: errorCode('RUNTIME_LAYER_TOO_LARGE'), mentions: "entry 'huge'",
    build: () => Buffer.concat([rawHeader({ name: 'huge', typeflag: '0', size: 2 ** 40 }), END_OF_ARCHIVE]) },
  { name: 'many files adding up past the limit', code: errorCode('RUNTIME_LAYER_TOO_LARGE'), options: { maxUnpackedBytes: MiB },
    build: () => gzip(rawTar(...Array.from({ length: 8 }, (_, i) => rawFile(`part${i}`, Buffer.alloc(200 * 1024))))) },
  { name: 'trailing-zero bomb after the archive', code: errorCode('RUNTIME_LAYER_TOO_LARGE'), mentions: 'uncompressed archive',
    options: { maxArchiveBytes: 4 * MiB },
    build: () => gzip(Buffer.concat([rawTar(rawFile('small', 'x')), Buffer.alloc(64 * MiB)])) },
  { name: 'entry-count bomb', code: errorCode('RUNTIME_LAYER_TOO_MANY_ENTRIES'), options: { maxEntries: 100 },
    build: () => gzip(rawTar(...Array.from({ length: 300 }, (_, i) => rawFile(`f${i}`)))) },
  { name: 'bad header checksum', code: errorCode('RUNTIME_LAYER_CORRUPT'),
    build: () => rawTar(rawFile('ok', 'x'), rawHeader({ name: 'bad', typeflag: '0', badChecksum: true })) },
  { name: 'truncated file data', code: errorCode('RUNTIME_LAYER_CORRUPT'),
    build: () => Buffer.concat([rawHeader({ name: 'cut', typeflag: '0', size: 4096 }), Buffer.alloc(1000, 0x41)]) },
  { name: 'corrupt gzip stream', code: errorCode('RUNTIME_LAYER_CORRUPT'),
    build: async () => {
      const good = gzip(await packTar([{ name: 'a', body: 'x'.repeat(10_000) }]));
      good.fill(0x55, 20, 40);
      return good;
    } },
  { name: 'content not matching the diff_id', code: errorCode('RUNTIME_LAYER_DIFF_ID_MISMATCH'), options: { expectedDiffId: `sha256:${'0'.repeat(64)}` },
    build: () => packTar([{ name: 'etc/motd', body: 'tampered' }]) },
];

/** Every path under `dir` with its type and content hash: the whole visible state. */
async function treeState(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const stat = await fsp.lstat(abs);
    let detail = `${rel} mode=${stat.mode.toString(8)} uid=${stat.uid} size=${stat.size}`;
    if (stat.isSymbolicLink()) detail += ` -> ${await fsp.readlink(abs)}`;
    if (stat.isFile()) detail += ` sha256=${createHash('sha256').update(await fsp.readFile(abs)).digest('hex')}`;
    out.push(detail);
    if (stat.isDirectory()) {
      for (const name of (await fsp.readdir(abs)).sort()) await walk(nodePath.join(abs, name), `${rel}/${name}`);
    }
  };
  await walk(dir, '.');
  return out;
}

void t.test(`the corpus has at least 15 distinct attacks (${attacks.length})`, (t) => {
  t.ok(attacks.length >= 15);
  t.equal(new Set(attacks.map((a) => a.name)).size, attacks.length, 'names are distinct');
  t.ok(new Set(attacks.map((a) => a.code)).size >= 10, 'many distinct refusal codes');
  t.end();
});

for (const attack of attacks) {
  void t.test(`refuses: ${attack.name}`, async (t) => {
    const base = t.testdir({ canary: { secret: 'do not touch\n', sub: { file: 'x' } }, store: {} });
    const canary = nodePath.join(base, 'canary');
    const store = nodePath.join(base, 'store');
    const target = nodePath.join(store, 'layer');
    const before = await treeState(base);
    const blob = await attack.build(canary);
    const error = await unpackLayer(streamOf(blob), { digest: DIGEST, target, ...attack.options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.match(error, { code: attack.code, name: 'BerthError' }, 'refused with its code');
    const message = error instanceof Error ? error.message : '';
    t.match(message, /^Refusing layer sha256:ab12ab12ab12…: /, 'message names the layer');
    if (attack.mentions !== undefined) t.ok(message.includes(attack.mentions), `message mentions ${attack.mentions}: ${message}`);
    t.same(await treeState(base), before, 'nothing written anywhere: canary intact, no target, no partial layer');
    t.same(await fsp.readdir(store), [], 'store directory is empty');
  });
}
