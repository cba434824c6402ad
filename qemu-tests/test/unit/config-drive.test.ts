import t from 'tap';
import { appendEntryOptions } from '../../harness/config-drive.ts';
import { buildQemuArgv } from '../../../vm/src/index.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('an operator edit of a boot entry appends to its options line only', (t) => {
  const entry = 'title berth 0.1.0 (slot a)\nsort-key berth\nversion 1\nlinux /berth/a/vmlinuz\noptions console=ttyS0 berth.slot=a\n';
  t.equal(appendEntryOptions(entry, ['berth.config=http://10.0.2.100/berth.yaml']), entry.replace('berth.slot=a', 'berth.slot=a berth.config=http://10.0.2.100/berth.yaml'));
  t.throws(() => appendEntryOptions('title x\n', ['a']), { code: errorCode('BOOT_ENTRY_INVALID') });
  t.end();
});

void t.test('extra drives: a virtio disk, or a read-only CD-ROM on the q35 AHCI bus', (t) => {
  const argv = buildQemuArgv({
    accel: 'tcg',
    firmwareCode: 'c',
    firmwareVars: 'v',
    disk: 'd.qcow2',
    consoleLog: 'l',
    shellSocket: 's',
    qmpSocket: 'q',
    extraDrives: [
      { file: '/w/cidata.img', kind: 'virtio' },
      { file: '/w/cidata.iso', kind: 'cdrom' },
    ],
  }).join(' ');
  t.match(argv, '-drive if=none,id=extra0,format=raw,file=/w/cidata.img -device virtio-blk-pci,drive=extra0');
  t.match(argv, '-drive if=none,id=extra1,format=raw,media=cdrom,readonly=on,file=/w/cidata.iso -device ide-cd,drive=extra1,bus=ide.1');
  t.end();
});
