import t from 'tap';
import { backoffSchedule, isRetryableStatus } from '../../../../lib/retry.ts';
import {
  berthConfigFromUserData,
  configDriveFile,
  configDriveModules,
  configDriveMount,
  findConfigDrives,
  parseBlkidExport,
  unusableConfigDrives,
} from '../../../src/core/config-drive.ts';
import { isSameNetwork } from '../../../src/core/early-network.ts';
import { loadMachineConfig } from '../../../../lib/config/machine-config.ts';
import {
  fetchTimeoutError,
  httpStatusError,
  isDeclaredTooBig,
  FETCH_RETRY,
  tooBigError,
} from '../../../src/core/config-url.ts';
import { errorCode } from '../../../../lib/errors.ts';

const BLKID = `DEVNAME=/dev/vda1
LABEL_FATBOOT=ESP
LABEL=ESP
UUID=C9CD-F99E
BLOCK_SIZE=512
TYPE=vfat
PARTLABEL=esp

DEVNAME=/dev/vda4
LABEL=berth-data
TYPE=ext4

DEVNAME=/dev/vdc
LABEL=CIDATA
TYPE=vfat

DEVNAME=/dev/sr0
BLOCK_SIZE=2048
LABEL=cidata
TYPE=iso9660

DEVNAME=/dev/vdd
LABEL=cidata
TYPE=ext4
`;

void t.test('config drives from blkid -o export: label CIDATA/cidata on vfat or iso9660, by device name', (t) => {
  const devices = parseBlkidExport(BLKID);
  t.equal(devices.length, 5);
  t.same(findConfigDrives(devices), [
    { device: '/dev/sr0', fsType: 'iso9660', label: 'cidata' },
    { device: '/dev/vdc', fsType: 'vfat', label: 'CIDATA' },
  ]);
  t.same(unusableConfigDrives(devices), [{ device: '/dev/vdd', type: 'ext4' }], 'a labelled ext4 volume is reported, not used');
  t.same(findConfigDrives(parseBlkidExport('')), [], 'no devices (blkid exit 2)');
  t.same(findConfigDrives(parseBlkidExport('ext4\n')), [], 'unexpected output finds nothing');
  t.same(findConfigDrives(parseBlkidExport('DEVNAME=/dev/vdb\nLABEL=Cidata\nTYPE=vfat\n')), [], 'other spellings are not the convention');
  t.end();
});

void t.test('the drive is mounted read-only, never executable, with the modules its filesystem needs', (t) => {
  t.same(configDriveMount({ device: '/dev/vdb', fsType: 'vfat', label: 'CIDATA' }), {
    source: '/dev/vdb',
    target: '/run/berth/config-drive',
    fsType: 'vfat',
    options: ['ro', 'nosuid', 'nodev', 'noexec'],
    createTarget: true,
  });
  t.same(configDriveModules('vfat'), ['vfat', 'nls_cp437', 'nls_ascii']);
  t.same(configDriveModules('iso9660'), ['isofs', 'nls_utf8']);
  t.end();
});

void t.test('berth.yaml comes before user-data; names match without case (vfat)', (t) => {
  t.same(configDriveFile(['meta-data', 'user-data', 'berth.yaml']), { file: 'berth.yaml', isUserData: false });
  t.same(configDriveFile(['BERTH.YAML']), { file: 'BERTH.YAML', isUserData: false });
  t.same(configDriveFile(['meta-data', 'user-data']), { file: 'user-data', isUserData: true });
  t.equal(configDriveFile(['meta-data', 'network-config']), undefined);
  t.end();
});

void t.test('NoCloud user-data: a berth config is accepted, cloud-init formats are refused saying why', (t) => {
  const marked = '#berth-config\nhostname: web1\n';
  t.equal(berthConfigFromUserData(marked, '/dev/sr0:user-data'), marked);
  t.equal(loadMachineConfig(marked, 'x').config.hostname, 'web1', 'the marker is a YAML comment: lines keep their numbers');
  t.equal(berthConfigFromUserData('hostname: web1\n', 's'), 'hostname: web1\n', 'plain YAML');
  t.equal(berthConfigFromUserData('\uFEFF#berth-config\r\nhostname: a\r\n', 's'), '\uFEFF#berth-config\r\nhostname: a\r\n', 'BOM and CRLF');
  const refused: Array<[string, RegExp]> = [
    ['#cloud-config\nhostname: web1\n', /it is a cloud-init #cloud-config, and berth does not run cloud-init/],
    ['#!/bin/sh\necho hi\n', /a user-data script/],
    ['#include\nhttp://x\n', /#include list/],
    ['#cloud-boothook\n', /boothook/],
    ['## template: jinja\n#cloud-config\n', /Jinja template/],
    ['Content-Type: multipart/mixed; boundary="x"\nMIME-Version: 1.0\n', /MIME multi-part/],
    ['\x1f\ufffd\b\0\0', /compressed/],
  ];
  for (const [text, message] of refused) {
    t.throws(() => berthConfigFromUserData(text, '/dev/sr0:user-data'), { code: errorCode('INIT_CONFIG_DRIVE_NOT_BERTH'), message }, JSON.stringify(text.slice(0, 20)));
  }
  t.throws(() => berthConfigFromUserData('#cloud-config\n', '/dev/sr0:user-data'), { message: /^Refusing \/dev\/sr0:user-data: .*put a berth machine config in berth\.yaml on the drive, or make user-data a berth config starting with #berth-config$/ });
  t.end();
});

void t.test('URL fetch decisions: retry on 5xx/408/425/429 only, backoff, size cap, messages', (t) => {
  t.same([500, 502, 503, 408, 425, 429].map(isRetryableStatus), [true, true, true, true, true, true]);
  t.same([400, 401, 403, 404, 410].map(isRetryableStatus), [false, false, false, false, false]);
  t.same(backoffSchedule(FETCH_RETRY, 6), [500, 1000, 2000, 4000, 5000, 5000]);
  t.equal(isDeclaredTooBig('1048577', 1048576), true);
  t.equal(isDeclaredTooBig('1048576', 1048576), false);
  t.equal(isDeclaredTooBig(null, 10), false);
  t.equal(isDeclaredTooBig('junk', 10), false);
  t.match(httpStatusError('http://h/c.yaml?t=1', 404, 'Not Found'), { code: errorCode('INIT_CONFIG_URL_HTTP'), message: 'Machine config server answered HTTP 404 Not Found for http://h/c.yaml?…: check the URL in berth.config= and that the server has the file' });
  t.match(tooBigError('http://h/c', 2000, 1000), { code: errorCode('INIT_CONFIG_URL_TOO_BIG'), message: /bigger than 1000 bytes \(2000 bytes so far\)/ });
  t.match(fetchTimeoutError('http://h/c', 60_000, 7, 'ECONNREFUSED'), { code: errorCode('INIT_CONFIG_URL_TIMEOUT'), message: /within 60 s \(7 tries; last: ECONNREFUSED\)/ });
  t.end();
});

void t.test('the early network is kept when the config asks for the same network', (t) => {
  const network = (yaml: string) => loadMachineConfig(yaml, 'x').config.network;
  t.equal(isSameNetwork(network(''), network('hostname: a\n')), true);
  t.equal(isSameNetwork(network(''), network('network:\n  dns:\n    servers: [10.0.2.3]\n')), false);
  t.equal(isSameNetwork(network(''), network('network:\n  interfaces:\n    eth0:\n      addresses: [10.0.2.20/24]\n')), false);
  t.end();
});
