import { Readable } from 'node:stream';
import t from 'tap';
import {
  LayerEntryTracker,
  layerError,
  normaliseEntryPath,
  planEntry,
  type EntryPlan,
  type EntryRules,
  type TarEntryHeader,
} from '../../src/core/layer-entry.ts';
import { peekBytes, sniffCompression } from '../../src/store/decompress.ts';
import { errorCode, type RuntimeLayerErrorCode as LayerErrorCode } from '../../../lib/errors.ts';

const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const RULES: EntryRules = { allowDevices: false };

function header(fields: Partial<TarEntryHeader> & { name: string }): TarEntryHeader {
  return { type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: new Date(1_000_000), linkname: null, devmajor: 0, devminor: 0, pax: null, ...fields };
}

void t.test('path normalisation', (t) => {
  t.same(normaliseEntryPath('./usr//bin/./ls'), { path: ['usr', 'bin', 'ls'] });
  t.same(normaliseEntryPath('./'), { path: [] });
  t.same(normaliseEntryPath('etc/'), { path: ['etc'] });
  t.same(normaliseEntryPath('a\\b'), { path: ['a\\b'] }, 'backslash is an ordinary byte on Linux');
  t.same(normaliseEntryPath('../x'), { problem: 'escapes the root' });
  t.same(normaliseEntryPath('a/../../x'), { problem: 'escapes the root' });
  t.same(normaliseEntryPath('a/../b'), { problem: "contains a '..' component" });
  t.same(normaliseEntryPath('/etc/passwd'), { problem: 'is an absolute path' });
  t.same(normaliseEntryPath('a\0b'), { problem: 'contains a NUL byte' });
  t.same(normaliseEntryPath('x'.repeat(256)), { problem: 'has a component longer than 255 bytes' });
  t.same(normaliseEntryPath('ä'.repeat(128)), { problem: 'has a component longer than 255 bytes' }, 'bytes, not characters');
  t.same(normaliseEntryPath('a/'.repeat(2100)), { problem: 'is longer than 4095 bytes' });
  t.end();
});

void t.test('plans by entry type', (t) => {
  t.match(planEntry(header({ name: './etc/', type: 'directory', mode: 0o40755 }), DIGEST, RULES), { kind: 'directory', path: ['etc'], meta: { mode: 0o755 } });
  t.match(planEntry(header({ name: 'bin/su', size: 5, mode: 0o104755 }), DIGEST, RULES), { kind: 'file', size: 5, meta: { mode: 0o4755 } });
  t.match(planEntry(header({ name: 'x', type: 'contiguous-file', size: 1 }), DIGEST, RULES), { kind: 'file' });
  t.match(planEntry(header({ name: 'lib', type: 'symlink', linkname: '/usr/lib' }), DIGEST, RULES), { kind: 'symlink', target: '/usr/lib' });
  t.match(planEntry(header({ name: 'up', type: 'symlink', linkname: '../../..' }), DIGEST, RULES), { kind: 'symlink', target: '../../..' }, 'symlink targets are data, never followed');
  t.match(planEntry(header({ name: 'b', type: 'link', linkname: './a' }), DIGEST, RULES), { kind: 'hardlink', target: ['a'] });
  t.match(planEntry(header({ name: 'p', type: 'fifo' }), DIGEST, RULES), { kind: 'fifo' });
  t.match(planEntry(header({ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 }), DIGEST, { allowDevices: true }), { kind: 'device', device: 'char', major: 1, minor: 3 });
  t.match(planEntry(header({ name: 'etc/.wh.motd' }), DIGEST, RULES), { kind: 'whiteout', path: ['etc', 'motd'], entryName: 'etc/.wh.motd' });
  t.match(planEntry(header({ name: '.wh.etc' }), DIGEST, RULES), { kind: 'whiteout', path: ['etc'] });
  t.match(planEntry(header({ name: 'var/.wh..wh..opq' }), DIGEST, RULES), { kind: 'opaque', path: ['var'] });
  t.match(planEntry(header({ name: '.wh..wh..opq' }), DIGEST, RULES), { kind: 'opaque', path: [] }, 'an opaque root is allowed');
  t.match(planEntry(header({ name: 'a.wh.b' }), DIGEST, RULES), { kind: 'file' }, '.wh. only counts as a prefix');
  t.end();
});

void t.test('pax overrides: uid, gid, mtime, xattrs', (t) => {
  const plan = planEntry(header({
    name: 'f',
    uid: 1,
    pax: {
      uid: '3000000',
      gid: '7',
      mtime: '1700000000.5',
      'SCHILY.xattr.user.a': 'text',
      'LIBARCHIVE.xattr.user.b': Buffer.from([0, 255]).toString('base64'),
      'LIBARCHIVE.xattr.security.capability': Buffer.from([1, 2]).toString('base64'),
      'SCHILY.xattr.security.capability': 'mangled',
    },
  }), DIGEST, RULES);
  t.match(plan, { meta: { uid: 3_000_000, gid: 7, mtime: 1_700_000_000.5 } });
  if (plan.kind !== 'file') throw new Error('expected a file');
  t.same([...plan.meta.xattrs.entries()], [
    ['user.a', Buffer.from('text')],
    ['user.b', Buffer.from([0, 255])],
    ['security.capability', Buffer.from([1, 2])],
  ], 'binary-safe LIBARCHIVE value wins over SCHILY');
  t.throws(() => planEntry(header({ name: 'f', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } }), DIGEST, RULES), { code: errorCode('RUNTIME_LAYER_UNSAFE_XATTR') });
  t.throws(() => planEntry(header({ name: 'f', pax: { 'LIBARCHIVE.xattr.user.overlay.redirect': 'L2V0Yw==' } }), DIGEST, RULES), { code: errorCode('RUNTIME_LAYER_UNSAFE_XATTR'), message: /overlayfs metadata/ });
  t.throws(() => planEntry(header({ name: 'f', pax: { 'SCHILY.xattr.security.selinux': 'x' } }), DIGEST, RULES), { code: errorCode('RUNTIME_LAYER_UNSAFE_XATTR') });
  t.match(planEntry(header({ name: 'f', pax: { 'SCHILY.xattr.security.selinux': 'x' } }), DIGEST, { allowDevices: false, ignoreUnknownXattrs: true }), { kind: 'file' });
  t.throws(() => planEntry(header({ name: 'f', pax: { uid: '-1' } }), DIGEST, RULES), { code: errorCode('RUNTIME_LAYER_UNSUPPORTED_ENTRY'), message: /invalid uid -1/ });
  t.end();
});

void t.test('refusals name the layer and the entry', (t) => {
  const refusals: [Partial<TarEntryHeader> & { name: string }, LayerErrorCode, RegExp][] = [
    [{ name: '../../etc/passwd' }, 'RUNTIME_LAYER_UNSAFE_PATH', /^Refusing layer sha256:ab12ab12ab12…: entry '\.\.\/\.\.\/etc\/passwd' escapes the root$/],
    [{ name: './', type: 'file' }, 'RUNTIME_LAYER_UNSAFE_PATH', /replaces the layer root with a file/],
    [{ name: 'x', type: 'symlink', linkname: '' }, 'RUNTIME_LAYER_UNSAFE_LINK', /empty target/],
    [{ name: 'x', type: 'link', linkname: '/etc/passwd' }, 'RUNTIME_LAYER_UNSAFE_LINK', /target is an absolute path/],
    [{ name: 'x', type: 'link', linkname: './x' }, 'RUNTIME_LAYER_UNSAFE_LINK', /points at itself/],
    [{ name: 'x', type: 'link', linkname: '.' }, 'RUNTIME_LAYER_UNSAFE_LINK', /layer root/],
    [{ name: 'sda', type: 'block-device', devmajor: 8 }, 'RUNTIME_LAYER_DEVICE_NOT_ALLOWED', /block device 8:0/],
    [{ name: '.wh.' }, 'RUNTIME_LAYER_BAD_WHITEOUT', /whites out ''/],
    [{ name: 'a/.wh..' }, 'RUNTIME_LAYER_BAD_WHITEOUT', /whites out '\.'/],
    [{ name: '.wh.x', type: 'directory' }, 'RUNTIME_LAYER_BAD_WHITEOUT', /not a plain file/],
    [{ name: '.wh.x', type: 'link', linkname: 'y' }, 'RUNTIME_LAYER_BAD_WHITEOUT', /not a plain file/],
    [{ name: '.wh.x/y' }, 'RUNTIME_LAYER_BAD_WHITEOUT', /below whiteout name/],
    [{ name: '.wh..wh.orph' }, 'RUNTIME_LAYER_BAD_WHITEOUT', /aufs/],
    [{ name: 'v', type: 'gnu-volume' }, 'RUNTIME_LAYER_UNSUPPORTED_ENTRY', /unsupported type gnu-volume/],
    [{ name: 'n', type: null }, 'RUNTIME_LAYER_UNSUPPORTED_ENTRY', /unknown/],
    [{ name: 'big', size: -1 }, 'RUNTIME_LAYER_CORRUPT', /invalid size/],
  ];
  for (const [fields, code, message] of refusals) {
    t.throws(() => planEntry(header(fields), DIGEST, RULES), { code, message }, fields.name);
  }
  t.match(layerError('RUNTIME_LAYER_CORRUPT', DIGEST, 'x', new Error('inner')), { cause: { message: 'inner' } });
  t.end();
});

function plan(name: string, fields: Partial<TarEntryHeader> = {}): EntryPlan {
  return planEntry(header({ name, ...fields }), DIGEST, { allowDevices: true });
}

void t.test('tracker: duplicates, conflicts and links', (t) => {
  const accepts = (names: EntryPlan[]): void => {
    const tracker = new LayerEntryTracker(DIGEST, { maxEntries: 100, maxUnpackedBytes: 100 });
    for (const p of names) tracker.accept(p);
  };
  const refuses = (plans: EntryPlan[], code: LayerErrorCode, message?: RegExp): void => {
    t.throws(() => accepts(plans), message === undefined ? { code } : { code, message });
  };
  accepts([plan('a', { type: 'directory' }), plan('a/', { type: 'directory' }), plan('a/b')]);
  accepts([plan('a/b'), plan('a', { type: 'directory' })]);
  accepts([plan('d/.wh..wh..opq'), plan('d/x'), plan('d/.wh.y')]);
  accepts([plan('f'), plan('h', { type: 'link', linkname: 'f' }), plan('h2', { type: 'link', linkname: 'h' })]);
  accepts([plan('s', { type: 'symlink', linkname: '/x' }), plan('h', { type: 'link', linkname: 's' })]);
  refuses([plan('a'), plan('a')], 'RUNTIME_LAYER_DUPLICATE_ENTRY', /entry 'a' appears twice \(first as file\)/);
  refuses([plan('a/b'), plan('a')], 'RUNTIME_LAYER_DUPLICATE_ENTRY', /first as directory/);
  refuses([plan('a', { type: 'directory' }), plan('a', { type: 'symlink', linkname: '/' })], 'RUNTIME_LAYER_DUPLICATE_ENTRY');
  refuses([plan('d/.wh..wh..opq'), plan('d/.wh..wh..opq')], 'RUNTIME_LAYER_DUPLICATE_ENTRY');
  refuses([plan('s', { type: 'symlink', linkname: '/' }), plan('s/x')], 'RUNTIME_LAYER_SYMLINK_TRAVERSAL', /through symlink 's'/);
  refuses([plan('s', { type: 'symlink', linkname: '/' }), plan('s/.wh..wh..opq')], 'RUNTIME_LAYER_SYMLINK_TRAVERSAL');
  refuses([plan('s', { type: 'symlink', linkname: '/' }), plan('s/.wh.x')], 'RUNTIME_LAYER_SYMLINK_TRAVERSAL');
  refuses([plan('f'), plan('f/.wh..wh..opq')], 'RUNTIME_LAYER_BAD_WHITEOUT', /not a directory/);
  refuses([plan('p', { type: 'fifo' }), plan('p/x')], 'RUNTIME_LAYER_UNSAFE_PATH', /not a directory/);
  refuses([plan('.wh.d'), plan('d/.wh..wh..opq')], 'RUNTIME_LAYER_BAD_WHITEOUT', /whites out/);
  refuses([plan('.wh.d'), plan('.wh.d')], 'RUNTIME_LAYER_BAD_WHITEOUT', /already whites out/);
  refuses([plan('.wh.d'), plan('d', { type: 'directory' })], 'RUNTIME_LAYER_BAD_WHITEOUT', /whited out by this same layer/);
  refuses([plan('d/x'), plan('.wh.d')], 'RUNTIME_LAYER_BAD_WHITEOUT', /which this same layer creates/);
  refuses([plan('h', { type: 'link', linkname: 'f' }), plan('f')], 'RUNTIME_LAYER_UNSAFE_LINK', /not an earlier entry/);
  refuses([plan('.wh.f'), plan('h', { type: 'link', linkname: 'f' })], 'RUNTIME_LAYER_UNSAFE_LINK');
  refuses([plan('d/x'), plan('h', { type: 'link', linkname: 'd' })], 'RUNTIME_LAYER_UNSAFE_LINK', /is a directory/);
  t.end();
});

void t.test('tracker: size and count limits are checked before data is read', (t) => {
  const tracker = new LayerEntryTracker(DIGEST, { maxEntries: 3, maxUnpackedBytes: 1000 });
  tracker.countEntry('a', 600);
  tracker.countEntry('b', 400);
  t.equal(tracker.unpackedBytes, 1000);
  t.throws(() => tracker.countEntry('c', 1), { code: errorCode('RUNTIME_LAYER_TOO_LARGE'), message: /entry 'c' \(1 bytes\) exceeds the limit of 1000 unpacked bytes/ });
  const counter = new LayerEntryTracker(DIGEST, { maxEntries: 2, maxUnpackedBytes: 1000 });
  counter.countEntry('a', 0);
  counter.countEntry('b', 0);
  t.throws(() => counter.countEntry('c', 0), { code: errorCode('RUNTIME_LAYER_TOO_MANY_ENTRIES'), message: /limit of 2 entries/ });
  t.equal(counter.entryCount, 3);
  t.end();
});

void t.test('compression sniffing and peeking', async (t) => {
  t.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  t.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  t.equal(sniffCompression(Buffer.from('ustar')), 'none');
  t.equal(sniffCompression(Buffer.alloc(0)), 'none');
  const stream = Readable.from([Buffer.from('ab'), Buffer.from('cdef')], { objectMode: false });
  t.same(await peekBytes(stream, 4), Buffer.from('abcd'));
  const rest: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) rest.push(chunk);
  t.equal(Buffer.concat(rest).toString(), 'abcdef', 'peeked bytes are still there');
  const short = Readable.from([Buffer.from('ab')], { objectMode: false });
  t.same(await peekBytes(short, 4), Buffer.from('ab'), 'a stream shorter than asked');
});
