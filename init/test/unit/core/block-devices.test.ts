import t from 'tap';
import { findPartitionsByName, parentDiskName, parseUevent } from '../../../src/core/block-devices.ts';

const uevent = (name: string, partn: number, partname: string): string =>
  `MAJOR=254\nMINOR=${partn}\nDEVNAME=${name}\nDEVTYPE=partition\nDISKSEQ=1\nPARTN=${partn}\nPARTNAME=${partname}\n`;

void t.test('finds a partition by GPT name and its disk', (t) => {
  const devices = [
    { name: 'vda', uevent: 'MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n', sysPath: '/sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda' },
    { name: 'vda1', uevent: uevent('vda1', 1, 'esp'), sysPath: '/sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda/vda1' },
    { name: 'vda4', uevent: uevent('vda4', 4, 'data'), sysPath: '/sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda/vda4' },
    { name: 'nvme0n1p3', uevent: uevent('nvme0n1p3', 3, 'other'), sysPath: '/sys/devices/pci0000:00/nvme/nvme0/nvme0n1/nvme0n1p3' },
    { name: 'dm-0', uevent: 'MAJOR=253\nMINOR=0\nDEVNAME=dm-0\nDEVTYPE=disk\n', sysPath: '/sys/devices/virtual/block/dm-0' },
  ];
  t.same(findPartitionsByName(devices, 'data'), [{ device: '/dev/vda4', disk: '/dev/vda', number: 4, name: 'vda4', diskName: 'vda' }]);
  t.same(findPartitionsByName(devices, 'esp')[0]?.device, '/dev/vda1');
  t.same(findPartitionsByName(devices, 'missing'), []);
  t.equal(parentDiskName('/sys/devices/pci0000:00/nvme/nvme0/nvme0n1/nvme0n1p3'), 'nvme0n1');
  t.end();
});

void t.test('parses uevent files', (t) => {
  const map = parseUevent('A=1\nPARTNAME=my data\nbad\n');
  t.equal(map.get('A'), '1');
  t.equal(map.get('PARTNAME'), 'my data');
  t.equal(map.size, 2);
  t.end();
});
