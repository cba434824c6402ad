import t from 'tap';
import { bootEntryFileName, parseBootEntryFileName, readyLine, failedLine, otherSlot } from '../../layout.ts';
import { parseBootEntry, renderBootEntry, parseKernelCommandLine, type SlotBootEntry } from '../../boot-entry.ts';
import { formatLogLine, parseLogLine } from '../../log.ts';
import { errorCode } from '../../errors.ts';

void t.test('boot entry file names follow systemd boot counting', async (t) => {
  t.equal(bootEntryFileName('a', { triesLeft: 3, triesDone: 0 }), 'berth-a+3.conf');
  t.equal(bootEntryFileName('b', { triesLeft: 2, triesDone: 1 }), 'berth-b+2-1.conf');
  t.equal(bootEntryFileName('a'), 'berth-a.conf');
  t.same(parseBootEntryFileName('berth-a+2-1.conf'), { slot: 'a', counter: { triesLeft: 2, triesDone: 1 } });
  t.same(parseBootEntryFileName('berth-b+0-3.conf'), { slot: 'b', counter: { triesLeft: 0, triesDone: 3 } });
  t.same(parseBootEntryFileName('berth-b.conf'), { slot: 'b' });
  t.equal(parseBootEntryFileName('berth-c.conf'), undefined);
  t.equal(parseBootEntryFileName('other.conf'), undefined);
  t.equal(otherSlot('a'), 'b');
});

void t.test('a rendered boot entry parses back to the same entry', async (t) => {
  const entry: SlotBootEntry = {
    slot: 'b',
    version: '1.2.3',
    generation: 7,
    verity: { rootHash: 'ab'.repeat(32), dataBlocks: 1000, hashStartBlock: 1000, salt: 'cd'.repeat(32) },
    kernelArgs: ['console=ttyS0,115200', 'panic=10'],
  };
  const text = renderBootEntry(entry);
  t.matchSnapshot(text);
  t.same(parseBootEntry(text), entry);
  t.throws(() => parseBootEntry('title x\n'), { code: errorCode('BOOT_ENTRY_INVALID') });
});

void t.test('kernel command line parsing', async (t) => {
  const args = parseKernelCommandLine('quiet berth.slot=a root="x y" berth.slot=b');
  t.equal(args.get('berth.slot'), 'b');
  t.equal(args.get('quiet'), '');
});

void t.test('readiness lines are the documented contract', async (t) => {
  t.equal(readyLine('a', '0.1.0', 1234.4), 'BERTH-READY slot=a version=0.1.0 boot_ms=1234');
  t.equal(failedLine('root verity error'), 'BERTH-FAILED reason=root_verity_error');
});

void t.test('logfmt round trip', async (t) => {
  const line = formatLogLine('info', 'init', 'Mounted "data"', { device: '/dev/vda5', n: 3, skip: undefined });
  t.equal(line, 'level=info component=init msg="Mounted \\"data\\"" device=/dev/vda5 n=3');
  t.same(parseLogLine(line), { level: 'info', component: 'init', msg: 'Mounted "data"', device: '/dev/vda5', n: '3' });
});
