/**
 * `berth analyze boot`: console text -> timeline model -> SVG, on a captured berth console,
 * a peer's systemd console (both real captures under fixtures/), a host init.log, container
 * lines, and text that is neither; plus the command line parsing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isBerthError } from '../../../lib/errors.ts';
import { renderBootSvg, tickStepMs } from '../../src/analyze/core/boot-svg.ts';
import { cleanLines, formatMs, nodeStartupBars, parseBootConsole, parseSystemdSpan, splitBoots, summarizeTimeline } from '../../src/analyze/core/boot-timeline.ts';
import { parseCliArgs } from '../../src/args.ts';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');
const berthConsole = fixture('berth-console.txt');
const systemdConsole = fixture('peer-systemd-console.txt');

void t.test('systemd time spans', async (t) => {
  t.equal(parseSystemdSpan('567ms'), 567);
  t.equal(parseSystemdSpan('2.345s'), 2345);
  t.equal(parseSystemdSpan('1min 2.5s'), 62_500);
  t.equal(parseSystemdSpan('850us'), 0.85);
  t.equal(parseSystemdSpan('soon'), undefined);
  t.equal(formatMs(850), '850ms');
  t.equal(formatMs(7810), '7.81s');
  t.equal(formatMs(65_000), '1min 5.0s');
});

void t.test('a berth console: kernel, initramfs steps, PID 1 stages, BERTH-READY', async (t) => {
  const timeline = parseBootConsole(berthConsole, { firmwareMs: 1500 });
  t.equal(timeline.kind, 'berth');
  t.equal(timeline.origin, 'qemu-start');
  t.same(timeline.warnings, []);
  const byLabel = new Map(timeline.bars.map((b) => [b.label, b]));
  t.same(byLabel.get('firmware + boot loader'), { label: 'firmware + boot loader', group: 'firmware', startMs: 0, endMs: 1500 });
  t.same(byLabel.get('kernel'), { label: 'kernel', group: 'kernel', startMs: 1500, endMs: 1500 + 1850 });
  t.same(byLabel.get('initramfs: modules'), { label: 'initramfs: modules', group: 'initramfs', startMs: 1500 + 1850, endMs: 1500 + 2670 });
  t.same(byLabel.get('initramfs: switch_root, node start'), { label: 'initramfs: switch_root, node start', group: 'initramfs', startMs: 1500 + 2800, endMs: 1500 + 5040 });
  t.same(byLabel.get('mount-var'), { label: 'mount-var', group: 'stage', startMs: 1500 + 7530 - 969, endMs: 1500 + 7530 });
  t.equal(timeline.bars.filter((b) => b.group === 'stage').length, 11);
  t.same(timeline.markers, [{ label: 'BERTH-READY', atMs: 1500 + 7810 }]);
  t.equal(timeline.endMs, 1500 + 7810);
  t.matchSnapshot(summarizeTimeline(timeline), 'rows as text');
  t.matchSnapshot(renderBootSvg(timeline, { title: 'berth fixture' }), 'svg');
});

void t.test("Node's start-up split by the figures of the Init starting line", async (t) => {
  const split = [
    { label: 'initramfs: switch_root, berth-pid1', group: 'initramfs', startMs: 2800, endMs: 3040 },
    { label: 'node: V8 and bootstrap', group: 'init', startMs: 3040, endMs: 3740 },
    { label: 'node: module loader to berth.mjs', group: 'init', startMs: 3740, endMs: 4340 },
    { label: "node: init's bundle loaded", group: 'init', startMs: 4340, endMs: 5040 },
  ];
  t.same(nodeStartupBars({ nowMs: 2000, bootstrapMs: 700, entryMs: 1300 }, 5040, 2800), split);
  // The fixture's console with the fields a current init prints: the process started at 5040 - 2000.
  const withNode = berthConsole.replace(/(msg="Init starting" [^\n]*t_ms=5040)/, '$1 node_ms=2000 node_bootstrap_ms=700 node_entry_ms=1300');
  t.not(withNode, berthConsole, 'the fixture has the line');
  const timeline = parseBootConsole(withNode);
  t.same(
    timeline.bars.filter((b) => split.some((s) => s.label === b.label)),
    split,
  );
  t.notOk(
    timeline.bars.some((b) => b.label === 'initramfs: switch_root, node start'),
    'the undivided span is replaced',
  );
  // A process that would have started before the initramfs's last step, or figures out of order: not drawn.
  t.equal(nodeStartupBars({ nowMs: 2600, bootstrapMs: 700, entryMs: 1300 }, 5040, 2800), undefined);
  t.equal(nodeStartupBars({ nowMs: 2000, bootstrapMs: 1400, entryMs: 1300 }, 5040, 2800), undefined);
});

void t.test("Node's start-up from init's startup snapshot: bootstrap with the snapshot, then init's main", async (t) => {
  const split = [
    { label: 'initramfs: switch_root, berth-pid1', group: 'initramfs', startMs: 2800, endMs: 3040 },
    { label: "node: V8, bootstrap and init's startup snapshot", group: 'init', startMs: 3040, endMs: 4540 },
    { label: "node: init's main to Init starting", group: 'init', startMs: 4540, endMs: 5040 },
  ];
  t.same(nodeStartupBars({ nowMs: 2000, bootstrapMs: 1500, entryMs: 1505, fromSnapshot: true }, 5040, 2800), split);
  const withNode = berthConsole.replace(/(msg="Init starting" [^\n]*t_ms=5040)/, '$1 node_ms=2000 node_bootstrap_ms=1500 node_entry_ms=1505 node_from=snapshot');
  t.same(
    parseBootConsole(withNode).bars.filter((b) => split.some((s) => s.label === b.label)),
    split,
  );
});

void t.test('without a firmware time the chart starts at kernel start', async (t) => {
  const timeline = parseBootConsole(berthConsole);
  t.equal(timeline.origin, 'kernel-start');
  t.notOk(timeline.bars.some((b) => b.group === 'firmware'));
  t.same(timeline.markers, [{ label: 'BERTH-READY', atMs: 7810 }]);
  t.match(renderBootSvg(timeline), /0 = kernel start \(guest clock\)/);
});

void t.test("a peer's systemd console: kernel, userspace, the critical chain, the ready marker", async (t) => {
  const timeline = parseBootConsole(systemdConsole, { firmwareMs: 2000 });
  t.equal(timeline.kind, 'systemd');
  t.same(timeline.warnings, []);
  const byLabel = new Map(timeline.bars.map((b) => [b.label, b]));
  t.same(byLabel.get('kernel (+ initramfs)'), { label: 'kernel (+ initramfs)', group: 'kernel', startMs: 2000, endMs: 2000 + 11_169 });
  t.equal(byLabel.get('systemd (userspace)')?.endMs, 2000 + 11_169 + 47_541);
  // The chain's root has "+took" only: it starts when basic.target (the line below) was reached.
  const container = byLabel.get('berth-bench-container.service');
  t.ok(container, 'the container unit is a row');
  t.equal(container?.startMs, byLabel.get('basic.target')?.startMs);
  t.ok(byLabel.get('multi-user.target')?.isPoint, 'targets are points');
  t.equal(timeline.markers[0]?.label, 'system up');
  const starts = timeline.bars.filter((b) => b.group === 'unit').map((b) => b.startMs);
  t.same(starts, [...starts].sort((a, b) => a - b), 'units in start order');
  t.matchSnapshot(summarizeTimeline(timeline), 'rows as text');
  t.matchSnapshot(renderBootSvg(timeline, { title: 'peer fixture' }), 'svg');
});

void t.test("systemd-boot's own firmware and loader figures place the kernel when no firmware time is given", async (t) => {
  const text = 'Startup finished in 1.200s (firmware) + 300ms (loader) + 2.000s (kernel) + 1.000s (initrd) + 4.000s (userspace) = 8.500s\n';
  const timeline = parseBootConsole(text);
  t.equal(timeline.origin, 'firmware-start');
  t.same(
    timeline.bars.map((b) => [b.label, b.startMs, b.endMs]),
    [
      ['firmware (systemd-boot estimate)', 0, 1200],
      ['boot loader', 1200, 1500],
      ['kernel', 1500, 3500],
      ['initrd', 3500, 4500],
      ['systemd (userspace)', 4500, 8500],
    ],
  );
});

void t.test('containers run from Container creating until healthy, else until first output', async (t) => {
  const text = [
    berthConsole,
    'level=info component=runtime msg="Container creating" container=web t_ms=7900',
    'level=info component=runtime msg="Container created" container=web t_ms=8000',
    'level=info component=runtime msg="Container started" container=web pid=412 restart_count=0 t_ms=8100',
    'level=info component=runtime msg="Container first output" container=web stream=stdout restart_count=0 t_ms=8150',
    'level=info component=runtime msg="Container health changed" container=web health=healthy failing_streak=0 t_ms=8600',
    'level=info component=runtime msg="Container creating" container=db t_ms=7950',
    'level=info component=runtime msg="Container creating" container=job t_ms=7960',
    'level=info component=runtime msg="Container started" container=job restart_count=0 t_ms=8200',
    'level=info component=runtime msg="Container first output" container=job stream=stderr restart_count=0 t_ms=8300',
    'level=info component=runtime msg="Container exited" container=job exit_code=0 t_ms=8350',
    'level=info component=runtime msg="Container creating" container=cron t_ms=7970',
    'level=info component=runtime msg="Container started" container=cron restart_count=0 t_ms=8250',
    'level=info component=runtime msg="Container exited" container=cron t_ms=8400',
    'CONTAINER-OUTPUT uptime_s=8.05',
  ].join('\n');
  const timeline = parseBootConsole(text);
  const containers = timeline.bars.filter((b) => b.group === 'container');
  t.same(containers, [
    { label: 'container web: until healthy', group: 'container', startMs: 7900, endMs: 8600 },
    { label: 'container db (not started yet)', group: 'container', startMs: 7950, endMs: 7950 },
    { label: 'container job: until first output', group: 'container', startMs: 7960, endMs: 8300 },
    { label: 'container cron: until started (no output, no health yet)', group: 'container', startMs: 7970, endMs: 8250 },
  ]);
  t.same(timeline.markers, [
    { label: 'BERTH-READY', atMs: 7810 },
    { label: 'first container output', atMs: 8050 },
  ]);
  t.equal(timeline.endMs, 8600);
});

void t.test('a host init.log: time= stamps, no initramfs, several boots', async (t) => {
  const boot = (ready: number) =>
    [
      `time=2026-11-23T10:00:00.000Z level=info component=init msg="Init starting" pid=205 t_ms=${ready - 3000}`,
      `time=2026-11-23T10:00:01.000Z level=info component=init msg="Stage done" stage=mount-api t_ms=${ready - 2000} duration_ms=1000`,
      `time=2026-11-23T10:00:02.000Z level=info component=init msg="Stage done" stage=config t_ms=${ready - 100} duration_ms=90`,
      `time=2026-11-23T10:00:02.100Z BERTH-READY slot=a version=0.1.0 boot_ms=${ready}`,
    ].join('\n');
  const log = `${boot(9000)}\n${boot(6000)}\n`;
  t.equal(splitBoots(cleanLines(log)).length, 2);
  const last = parseBootConsole(log);
  t.same(last.boot, { index: 2, count: 2 });
  t.same(last.markers, [{ label: 'BERTH-READY', atMs: 6000 }]);
  t.same(last.warnings, ['No initramfs lines or kernel timestamps: the kernel span is unknown']);
  t.same(
    last.bars.map((b) => b.label),
    ['init (PID 1) to ready', 'mount-api', 'config'],
  );
  const first = parseBootConsole(log, { boot: 1 });
  t.same(first.markers, [{ label: 'BERTH-READY', atMs: 9000 }]);
  t.match(renderBootSvg(first), /boot 1 of 2 in this log/);
  const missing = parseBootConsole(log, { boot: 5 });
  t.equal(missing.boot.index, 2);
  t.match(missing.warnings[0], /Boot 5 not found/);
});

void t.test('a boot that failed or never finished says so', async (t) => {
  const failed = parseBootConsole('level=info component=initramfs msg=x stage=initramfs-start t_ms=100\nBERTH-FAILED reason=root-mount\n');
  t.same(failed.warnings, ['Boot failed: root-mount']);
  const unfinished = parseBootConsole('level=info component=initramfs msg=x stage=initramfs-start t_ms=100\n');
  t.same(unfinished.warnings, ['No BERTH-READY line: the boot did not finish in this console']);
});

void t.test('text that is neither berth nor systemd still renders, with a warning', async (t) => {
  const timeline = parseBootConsole('[    0.000000] Linux version 6.12\n[    1.500000] random: crng init done\nhello\n');
  t.equal(timeline.kind, 'unknown');
  t.same(timeline.bars, [{ label: 'kernel (timestamps seen)', group: 'kernel', startMs: 0, endMs: 1500 }]);
  const svg = renderBootSvg(timeline);
  t.match(svg, /^<svg [^>]*>/);
  t.match(svg, /Neither berth nor systemd boot lines found/);
  t.match(renderBootSvg(parseBootConsole('')), /<\/svg>\n$/);
});

void t.test('labels are escaped and the axis ticks are round', async (t) => {
  const svg = renderBootSvg({
    kind: 'berth',
    origin: 'kernel-start',
    bars: [{ label: 'a<b & "c"', group: 'stage', startMs: 0, endMs: 1000 }],
    markers: [],
    endMs: 1000,
    boot: { index: 1, count: 1 },
    warnings: [],
  });
  t.match(svg, /a&lt;b &amp; &quot;c&quot; \(1\.00s\)/);
  t.notMatch(svg, /a<b/);
  t.equal(tickStepMs(900), 100);
  t.equal(tickStepMs(9_300), 1000);
  t.equal(tickStepMs(60_700), 5000);
});

void t.test('berth analyze boot arguments', async (t) => {
  t.same(parseCliArgs(['analyze', 'boot', 'console.log']), { kind: 'analyze-boot', input: 'console.log' });
  t.same(parseCliArgs(['analyze', 'boot', '--out', 'b.svg', 'c.log', '--firmware-ms', '1500', '--boot', '-2', '--title', 'x', '--axis-ms', '20000']), {
    kind: 'analyze-boot',
    input: 'c.log',
    out: 'b.svg',
    firmwareMs: 1500,
    boot: -2,
    title: 'x',
    axisEndMs: 20_000,
  });
  const usage = (argv: string[]) => {
    try {
      parseCliArgs(argv);
      return 'no error';
    } catch (error) {
      return isBerthError(error, 'CLI_USAGE') ? error.message : `unexpected ${String(error)}`;
    }
  };
  t.match(usage(['analyze']), /analyze needs a subject: boot/);
  t.match(usage(['analyze', 'blame']), /Unknown analyze subject 'blame'/);
  t.match(usage(['analyze', 'boot']), /needs a console log file/);
  t.match(usage(['analyze', 'boot', 'a', 'b']), /got a second: 'b'/);
  t.match(usage(['analyze', 'boot', 'a', '--firmware-ms', '-5']), /--firmware-ms must be a whole number of milliseconds, not '-5'/);
  t.match(usage(['analyze', 'boot', 'a', '--boot', '0']), /--boot counts from 1/);
  t.match(usage(['analyze', 'boot', 'a', '--out']), /--out needs a value/);
  t.match(usage(['analyze', 'boot', 'a', '--svg']), /Unknown option '--svg' for analyze boot/);
});
