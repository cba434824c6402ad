import t from 'tap';
import { isMountedAt, isPathWithin, parseMountInfo } from '../../../src/core/mountinfo.ts';

const SAMPLE = [
  '22 1 253:0 / / ro,relatime shared:1 - erofs /dev/mapper/root ro,user_xattr',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw',
  '24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:3 - sysfs sysfs rw',
  '30 22 254:4 / /var rw,noatime shared:9 - ext4 /dev/vda4 rw',
  '31 22 0:40 / /etc rw,relatime shared:10 - overlay overlay rw,lowerdir=/etc,upperdir=/var/lib/berth/etc/upper,workdir=/var/lib/berth/etc/work',
  '32 30 0:41 / /var/lib/with\\040space rw - tmpfs tmpfs rw',
  '33 22 0:42 / /mnt rw master:7 unbindable - tmpfs tmp\\011fs rw',
  'garbage line',
  '',
].join('\n');

void t.test('parses mountinfo fields, optional fields and octal escapes', (t) => {
  const entries = parseMountInfo(SAMPLE);
  t.equal(entries.length, 7);
  t.same(entries[0], {
    id: 22,
    parentId: 1,
    device: '253:0',
    root: '/',
    target: '/',
    options: ['ro', 'relatime'],
    fsType: 'erofs',
    source: '/dev/mapper/root',
    superOptions: ['ro', 'user_xattr'],
  });
  t.equal(entries[5]?.target, '/var/lib/with space');
  t.equal(entries[6]?.fsType, 'tmpfs', 'several optional fields before the separator');
  t.equal(entries[6]?.source, 'tmp\tfs');
  t.ok(isMountedAt(entries, '/proc'));
  t.notOk(isMountedAt(entries, '/dev'));
  t.end();
});

void t.test('an empty or missing mountinfo means nothing is mounted', (t) => {
  t.same(parseMountInfo(''), []);
  t.end();
});

void t.test('isPathWithin respects path boundaries', (t) => {
  t.ok(isPathWithin('/var', '/var'));
  t.ok(isPathWithin('/var/lib', '/var'));
  t.notOk(isPathWithin('/variant', '/var'));
  t.ok(isPathWithin('/x', '/'));
  t.end();
});
