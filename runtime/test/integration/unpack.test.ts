// The layer unpacker on real files: a normal layer with every entry kind unpacks exactly
// (modes, owners, times, links, whiteouts, opaque directories, xattrs), a layer made by
// GNU tar round-trips, all three compressions work, and the store stays consistent.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { LAYER_RECORD_FILE, LAYER_ROOT_DIR, removePartialLayers, unpackLayer } from '../../src/store/unpack.ts';
import { createSpecialFiles, mknodArgs, setfattrArgs, type SpecialFiles } from '../../src/store/special-files.ts';
import { hasNativeZstd, spawnZstdDecoder } from '../../src/store/decompress.ts';
import { gzip, packTar, streamOf, zstd, type PackEntry } from './tar-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const DIGEST = `sha256:${'cd34'.repeat(16)}`;
const isRoot = process.getuid?.() === 0;

/** These tests need root; npm test runs as root. Anywhere else they fail saying so, never skip. */
function requireRoot(t: { ok: (value: unknown, message: string) => unknown }, why: string): void {
  if (!isRoot) throw new Error(`Run this test as root: it ${why}`);
  t.ok(isRoot, 'running as root');
}
const at = (seconds: number): Date => new Date(seconds * 1000);
// cap_net_raw+ep as a VFS_CAP_REVISION_2 security.capability value.
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const LONG_NAME = `usr/share/${'deep/'.repeat(30)}file.txt`;

const normalLayer: PackEntry[] = [
  { name: './', type: 'directory', mode: 0o755, mtime: at(1_000_000) },
  { name: 'etc', type: 'directory', mode: 0o755, mtime: at(1_000_001) },
  { name: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644, mtime: at(1_000_002) },
  { name: 'etc/shadow', body: 'root:*:1::::::\n', mode: 0o640, uid: 0, gid: 42, mtime: at(1_000_003) },
  { name: 'etc/.wh.old.conf', body: '' },
  { name: 'usr/bin/su', body: 'ELF su', mode: 0o4755, mtime: at(1_000_004) },
  { name: 'usr/bin/ping', body: 'ELF ping', mode: 0o755, pax: { 'LIBARCHIVE.xattr.security.capability': CAP_NET_RAW.toString('base64') } },
  { name: 'usr/bin/hl-su', type: 'link', linkname: 'usr/bin/su' },
  { name: 'usr/lib/libx.so.1', body: 'lib', mode: 0o644, mtime: at(1_000_005) },
  { name: 'usr/lib/libx.so', type: 'symlink', linkname: 'libx.so.1', mtime: at(1_000_006) },
  { name: 'bin', type: 'symlink', linkname: 'usr/bin', mtime: at(1_000_007) },
  { name: 'bin-again', type: 'link', linkname: 'bin' },
  { name: 'dangling', type: 'symlink', linkname: '/nonexistent/target' },
  { name: 'home/user', type: 'directory', mode: 0o700, uid: 1000, gid: 1000, mtime: at(1_000_008) },
  { name: 'home/user/notes', body: 'hi', mode: 0o600, uid: 1000, gid: 1000, pax: { 'SCHILY.xattr.user.origin': 'berth-test', uid: '100000' } },
  { name: 'tmp', type: 'directory', mode: 0o1777, mtime: at(1_000_009) },
  { name: 'ro', type: 'directory', mode: 0o555, mtime: at(1_000_010) },
  { name: 'ro/file', body: 'inside a read-only dir', mode: 0o444 },
  { name: 'var/cache/.wh..wh..opq', body: '' },
  { name: 'var/cache/new', body: 'fresh', mode: 0o644 },
  { name: 'run/fifo', type: 'fifo', mode: 0o600 },
  { name: LONG_NAME, body: 'long', mode: 0o644 },
];

function getXattr(path: string, name: string): string | undefined {
  try {
    const output = execFileSync('/usr/bin/getfattr', ['--absolute-names', '-h', '-e', 'hex', '-n', name, path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return /=(0x[0-9a-f]*)$/m.exec(output)?.[1];
  } catch {
    return undefined;
  }
}

void t.test('a normal layer unpacks exactly', async (t) => {
  requireRoot(t, 'needs root (ownership, whiteout devices, trusted xattrs)');
  const base = t.testdir({ store: {} });
  const target = nodePath.join(base, 'store', 'layer');
  const tar = await packTar(normalLayer);
  const result = await unpackLayer(streamOf(tar), { digest: DIGEST, target });
  const root = nodePath.join(target, LAYER_ROOT_DIR);
  const stat = (rel: string): Promise<Stats> => fsp.lstat(nodePath.join(root, rel));
  const perm = async (rel: string): Promise<number> => (await stat(rel)).mode & 0o7777;

  t.same(await fsp.readdir(nodePath.join(base, 'store')), ['layer'], 'only the finished layer, no partial');
  t.match(result, {
    digest: DIGEST,
    diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`,
    compression: 'none',
    entries: normalLayer.length,
    whiteoutMode: 'overlay',
    ownership: 'kept',
    whiteouts: ['etc/old.conf'],
    opaqueDirectories: ['var/cache'],
    notes: [],
  });
  t.same(JSON.parse(await fsp.readFile(nodePath.join(target, LAYER_RECORD_FILE), 'utf8')), result, 'layer.json records the result');
  t.equal((await fsp.lstat(target)).mode & 0o777, 0o700, 'layer directory is private to root');

  t.equal(await perm('.'), 0o755);
  t.equal((await stat('.')).mtimeMs, 1_000_000_000, 'root mtime from ./');
  t.equal(await fsp.readFile(nodePath.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
  t.equal((await stat('etc/passwd')).mtimeMs, 1_000_002_000);
  t.match(await stat('etc/shadow'), { uid: 0, gid: 42 });
  t.equal(await perm('etc/shadow'), 0o640);
  t.equal((await stat('etc')).mtimeMs, 1_000_001_000, 'directory mtime survives its children being written');
  t.equal(await perm('usr/bin/su'), 0o4755, 'setuid bit kept');
  const su = await stat('usr/bin/su');
  const hl = await stat('usr/bin/hl-su');
  t.equal(hl.ino, su.ino, 'hard link shares the inode');
  t.equal(su.nlink, 2);
  t.equal(getXattr(nodePath.join(root, 'usr/bin/ping'), 'security.capability'), `0x${CAP_NET_RAW.toString('hex')}`, 'file capability from a LIBARCHIVE xattr');
  t.equal(await fsp.readlink(nodePath.join(root, 'usr/lib/libx.so')), 'libx.so.1');
  t.equal((await stat('usr/lib/libx.so')).mtimeMs, 1_000_006_000, 'symlink mtime (lutimes)');
  t.equal(await fsp.readlink(nodePath.join(root, 'bin')), 'usr/bin');
  t.ok((await stat('bin-again')).isSymbolicLink(), 'hard link to a symlink links the symlink itself');
  t.equal((await stat('bin-again')).ino, (await stat('bin')).ino);
  t.equal(await fsp.readlink(nodePath.join(root, 'dangling')), '/nonexistent/target', 'absolute and dangling symlinks kept as written');
  t.match(await stat('home/user'), { uid: 1000, gid: 1000 });
  t.equal(await perm('home/user'), 0o700);
  t.match(await stat('home/user/notes'), { uid: 100000, gid: 1000 }, 'pax uid overrides the ustar field');
  t.equal(getXattr(nodePath.join(root, 'home/user/notes'), 'user.origin'), `0x${Buffer.from('berth-test').toString('hex')}`);
  t.equal(await perm('tmp'), 0o1777, 'sticky bit kept');
  t.equal(await perm('ro'), 0o555, 'read-only directory mode applied after its children');
  t.equal(await fsp.readFile(nodePath.join(root, 'ro/file'), 'utf8'), 'inside a read-only dir');

  const whiteout = await stat('etc/old.conf');
  t.ok(whiteout.isCharacterDevice(), 'whiteout is a character device');
  t.equal(whiteout.rdev, 0, 'whiteout device is 0:0');
  t.notOk((await fsp.readdir(nodePath.join(root, 'etc'))).some((name) => name.startsWith('.wh.')), 'no .wh. files left');
  t.equal(getXattr(nodePath.join(root, 'var/cache'), 'trusted.overlay.opaque'), '0x79', 'opaque directory carries trusted.overlay.opaque=y');
  t.notOk((await fsp.readdir(nodePath.join(root, 'var/cache'))).includes('.wh..wh..opq'));
  t.equal(await fsp.readFile(nodePath.join(root, 'var/cache/new'), 'utf8'), 'fresh', 'entries inside an opaque dir are kept');
  t.ok((await stat('run/fifo')).isFIFO());
  t.equal(await perm('run/fifo'), 0o600);
  t.equal(await fsp.readFile(nodePath.join(root, LONG_NAME), 'utf8'), 'long', 'pax long names');
});

void t.test('without root powers whiteouts are recorded, not converted, and ownership is not kept', async (t) => {
  const base = t.testdir({ store: {} });
  const target = nodePath.join(base, 'store', 'layer');
  const calls: string[] = [];
  const special: SpecialFiles = {
    mknod: (path, kind) => {
      calls.push(`mknod ${kind} ${nodePath.relative(target, path).split(nodePath.sep).pop() ?? ''}`);
      return createSpecialFiles().mknod(path, kind, 0o600);
    },
    setXattr: (path, name) => {
      calls.push(`setxattr ${name}`);
      return Promise.resolve();
    },
    syncFilesystem: () => {
      calls.push('syncfs');
      return Promise.resolve();
    },
  };
  const tar = await packTar([
    { name: 'a/.wh.gone', body: '' },
    { name: 'b/.wh..wh..opq', body: '' },
    { name: 'b/c', body: 'x', uid: 1234 },
    { name: 'f', type: 'fifo', mode: 0o600 },
    { name: 'cap', body: 'x', pax: { 'LIBARCHIVE.xattr.security.capability': CAP_NET_RAW.toString('base64') } },
  ]);
  const result = await unpackLayer(streamOf(tar), { digest: DIGEST, target, whiteouts: 'record', keepOwnership: false, special });
  t.match(result, { whiteoutMode: 'record', ownership: 'not-kept', whiteouts: ['a/gone'], opaqueDirectories: ['b'] });
  t.same(calls, ['mknod fifo f', 'syncfs'], 'only the FIFO needed mknod; no whiteout devices, no trusted xattrs; one syncfs');
  t.equal(result.notes.length, 3, result.notes.join('; '));
  t.match(result.notes.join('\n'), /1 whiteouts and 1 opaque directories recorded in layer.json only/);
  t.match(result.notes.join('\n'), /security.capability of 'cap' not set \(needs root\)/);
  await t.rejects(fsp.lstat(nodePath.join(target, LAYER_ROOT_DIR, 'a/gone')), { code: 'ENOENT' });
  t.ok((await fsp.lstat(nodePath.join(target, LAYER_ROOT_DIR, 'a'))).isDirectory(), 'parent of the whiteout exists');
});

void t.test('a layer written by GNU tar round-trips', async (t) => {
  requireRoot(t, 'needs root');
  const base = t.testdir({ src: {}, store: {} });
  const src = nodePath.join(base, 'src');
  await fsp.mkdir(nodePath.join(src, 'etc/conf.d'), { recursive: true });
  await fsp.writeFile(nodePath.join(src, 'etc/conf.d/a.conf'), 'a=1\n');
  await fsp.writeFile(nodePath.join(src, 'etc/big'), Buffer.alloc(300_000, 7));
  await fsp.link(nodePath.join(src, 'etc/big'), nodePath.join(src, 'etc/big.link'));
  await fsp.symlink('../etc/conf.d', nodePath.join(src, 'etc/alias'));
  await fsp.mkdir(nodePath.join(src, 'srv'), { mode: 0o750 });
  await fsp.chown(nodePath.join(src, 'srv'), 33, 33);
  await fsp.chmod(nodePath.join(src, 'srv'), 0o2750);
  await fsp.writeFile(nodePath.join(src, 'srv/x'), 'x', { mode: 0o640 });
  await fsp.chown(nodePath.join(src, 'srv/x'), 33, 44);
  for (const [rel, seconds] of [['etc/conf.d/a.conf', 1_500_000_001], ['etc/conf.d', 1_500_000_002], ['srv', 1_500_000_003], ['etc', 1_500_000_004]] as const) {
    await fsp.utimes(nodePath.join(src, rel), seconds, seconds);
  }
  const tar = execFileSync('/usr/bin/tar', ['--numeric-owner', '--xattrs', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
  const target = nodePath.join(base, 'store', 'layer');
  const result = await unpackLayer(streamOf(gzip(tar)), { digest: DIGEST, target, expectedDiffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` });
  t.equal(result.compression, 'gzip');

  const describe = async (root: string): Promise<string[]> => {
    const lines: string[] = [];
    const inodes = new Map<number, string>();
    const walk = async (rel: string): Promise<void> => {
      const abs = nodePath.join(root, rel);
      const s = await fsp.lstat(abs);
      let line = `${rel} ${s.mode.toString(8)} ${s.uid}:${s.gid} size=${s.isDirectory() ? '-' : s.size}`;
      if (!s.isSymbolicLink() && !(s.isDirectory() && rel === '.')) line += ` mtime=${Math.floor(s.mtimeMs / 1000)}`;
      if (s.isSymbolicLink()) line += ` -> ${await fsp.readlink(abs)}`;
      if (s.isFile()) {
        line += ` sha=${createHash('sha256').update(await fsp.readFile(abs)).digest('hex').slice(0, 12)}`;
        const first = inodes.get(s.ino);
        if (first !== undefined) line += ` hardlink-of=${first}`;
        else inodes.set(s.ino, rel);
      }
      lines.push(line);
      if (s.isDirectory()) for (const name of (await fsp.readdir(abs)).sort()) await walk(rel === '.' ? name : `${rel}/${name}`);
    };
    await walk('.');
    return lines;
  };
  t.same(await describe(nodePath.join(target, LAYER_ROOT_DIR)), await describe(src));
});

void t.test('gzip, zstd (native or spawned) and plain tar give the same tree and diff_id', async (t) => {
  const tar = await packTar([{ name: 'a/b', body: 'hello '.repeat(1000) }, { name: 'c', type: 'symlink', linkname: 'a/b' }]);
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const base = t.testdir({ store: {} });
  const cases = [
    ['none', tar, undefined],
    ['gzip', gzip(tar), undefined],
    ['zstd', zstd(tar), undefined],
    ['zstd', zstd(tar), { zstd: () => spawnZstdDecoder() }],
  ] as const;
  for (const [index, [compression, blob, decompress]] of cases.entries()) {
    const target = nodePath.join(base, 'store', `l${index}`);
    const result = await unpackLayer(streamOf(blob, 1000), { digest: DIGEST, target, expectedDiffId: diffId, ...(decompress ? { decompress } : {}) });
    t.equal(result.compression, compression);
    t.equal(result.diffId, diffId);
    t.equal(await fsp.readFile(nodePath.join(target, LAYER_ROOT_DIR, 'a/b'), 'utf8'), 'hello '.repeat(1000));
  }
  t.comment(`native zstd in this Node: ${hasNativeZstd()}`);
});

void t.test('an existing target is refused and left alone; concurrent unpacks of one layer leave one copy', async (t) => {
  const base = t.testdir({ store: { layer: { keep: 'me' } } });
  const store = nodePath.join(base, 'store');
  const tar = await packTar([{ name: 'x', body: 'y' }]);
  await t.rejects(unpackLayer(streamOf(tar), { digest: DIGEST, target: nodePath.join(store, 'layer') }), { code: errorCode('RUNTIME_LAYER_EXISTS') });
  t.equal(await fsp.readFile(nodePath.join(store, 'layer/keep'), 'utf8'), 'me');

  const target = nodePath.join(store, 'twice');
  const outcomes = await Promise.allSettled([0, 1, 2].map(() => unpackLayer(streamOf(tar), { digest: DIGEST, target })));
  const fulfilled = outcomes.filter((o) => o.status === 'fulfilled').length;
  t.ok(fulfilled >= 1, 'at least one unpack wins');
  for (const outcome of outcomes) if (outcome.status === 'rejected') t.match(outcome.reason, { code: errorCode('RUNTIME_LAYER_EXISTS') });
  t.same((await fsp.readdir(store)).sort(), ['layer', 'twice'], 'no partial directories remain');
});

void t.test('partial layers left by a crash are removed at store start', async (t) => {
  const base = t.testdir({ store: { '.abc.partial-0123456789ab': { root: { f: 'x' } }, done: { root: {} }, '.hidden': 'kept' } });
  const store = nodePath.join(base, 'store');
  t.same(await removePartialLayers(store), ['.abc.partial-0123456789ab']);
  t.same((await fsp.readdir(store)).sort(), ['.hidden', 'done']);
});

void t.test('devices are created only when allowed', async (t) => {
  requireRoot(t, 'needs root');
  const base = t.testdir({ store: {} });
  const tar = await packTar([{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]);
  const target = nodePath.join(base, 'store', 'layer');
  await unpackLayer(streamOf(tar), { digest: DIGEST, target, allowDevices: true });
  const s = await fsp.lstat(nodePath.join(target, LAYER_ROOT_DIR, 'dev/null'));
  t.ok(s.isCharacterDevice());
  t.equal(s.rdev, 0x103, 'device 1:3');
  t.equal(s.mode & 0o7777, 0o666);
});

void t.test('every durability mode yields the same layer', async (t) => {
  const base = t.testdir({ store: {} });
  const tar = await packTar([{ name: 'a/b', body: 'x' }, { name: 'c', type: 'symlink', linkname: 'a/b' }]);
  for (const sync of ['filesystem', 'files', 'none'] as const) {
    const target = nodePath.join(base, 'store', sync);
    const result = await unpackLayer(streamOf(tar), { digest: DIGEST, target, sync });
    t.equal(result.entries, 2, sync);
    t.equal(await fsp.readFile(nodePath.join(target, LAYER_ROOT_DIR, 'a/b'), 'utf8'), 'x');
  }
});

void t.test('special-file argv', (t) => {
  t.same(mknodArgs('/l/root/a', 'char', 0, 0, 0), ['-m', '0000', '--', '/l/root/a', 'c', '0', '0']);
  t.same(mknodArgs('/l/root/p', 'fifo', 0o644), ['-m', '0644', '--', '/l/root/p', 'p']);
  t.same(setfattrArgs('/l/root/d', 'trusted.overlay.opaque', Buffer.from('y')), ['-h', '-n', 'trusted.overlay.opaque', '-v', '0x79', '--', '/l/root/d']);
  t.end();
});
