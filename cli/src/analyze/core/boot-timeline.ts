/**
 * Reads a boot out of a captured console (or a host's /var/log/berth/init.log) into a
 * timeline model: bars for firmware, kernel, initramfs steps, PID 1 stages, containers
 * until healthy, and systemd units on a peer's critical chain; markers for readiness lines.
 * Pure: text in, data out.
 */
import { parseLogLine } from '../../../../lib/log.ts';

export type BarGroup = 'firmware' | 'kernel' | 'initramfs' | 'init' | 'stage' | 'container' | 'systemd' | 'unit';

/** One row of the chart: [startMs, endMs] on the chart's clock (see BootTimeline.origin). */
export interface TimelineBar {
  label: string;
  group: BarGroup;
  startMs: number;
  endMs: number;
  /** A point in time rather than a span (a systemd target reached, a readiness line). */
  isPoint?: boolean;
}

export interface TimelineMarker {
  label: string;
  atMs: number;
}

export interface BootTimeline {
  /** What the console came from: berth's init, systemd, or neither recognised. */
  kind: 'berth' | 'systemd' | 'unknown';
  /**
   * Where 0 ms is: QEMU start when the firmware time was measured outside the guest, firmware
   * start when only systemd-boot's estimate was there, kernel start otherwise.
   */
  origin: 'qemu-start' | 'firmware-start' | 'kernel-start';
  bars: TimelineBar[];
  markers: TimelineMarker[];
  /** The last moment the chart must show. */
  endMs: number;
  /** Which boot of the console this is (1-based) and how many there were. */
  boot: { index: number; count: number };
  warnings: string[];
}

export interface TimelineOptions {
  /** QEMU start -> kernel start, measured outside the guest (the bench knows it). */
  firmwareMs?: number;
  /** Which boot of a console holding several (1-based; negative counts from the end; default: the last). */
  boot?: number;
}

// Terminal control sequences the firmware and getty write to the serial line.
const ANSI = /\x1b(?:\[[0-9;=?!>]*[A-Za-z]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][A-Za-z0-9]|[=>c])/g;
const PRINTK = /^\[\s*(\d+)\.(\d{1,6})\]\s?(.*)$/;
const READY = /BERTH-READY slot=([ab]) version=(\S+) boot_ms=(\d+)/;
const FAILED = /BERTH-FAILED reason=(\S+)/;
const PEER_READY = /PEER-READY uptime_s=([\d.]+)/;
const CONTAINER_OUTPUT = /CONTAINER-OUTPUT uptime_s=([\d.]+)/;
const STARTUP_FINISHED = /Startup finished in (.*?)\s*=\s*([^\s].*)$/;
const CHAIN_LINE = /^[\s│├└─|`-]*([A-Za-z0-9@_.:\\-]+\.(?:service|target|socket|mount|device|slice|scope|path|timer|swap))(?: @([0-9.a-z ]+?))?(?: \+([0-9.a-z ]+))?$/;

/** Splits the console into lines without carriage returns and terminal escapes. */
export function cleanLines(text: string): string[] {
  return text.replace(ANSI, '').replace(/\r/g, '').split('\n');
}

/** Parses a systemd time span as systemd-analyze prints it: "1min 2.345s", "567ms", "2.1s", "850us". */
export function parseSystemdSpan(text: string): number | undefined {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let any = false;
  for (const part of text.trim().split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)(us|ms|s|min|h|d)$/.exec(part);
    if (!m) return undefined;
    total += Number(m[1]) * (units[m[2] as string] ?? 0);
    any = true;
  }
  return any ? total : undefined;
}

type Phase = 0 | 1 | 2 | 3;

/** Which boot phase a line announces, when it is one that only appears once per boot. */
function phaseStart(line: string): Phase | undefined {
  if (/BdsDxe: loading/.test(line)) return 0;
  if (/^\[\s*0\.000000\]/.test(line)) return 1;
  if (/component=initramfs/.test(line) && /stage=initramfs-start/.test(line)) return 2;
  if (/component=init /.test(line) && /msg="Init starting"/.test(line)) return 3;
  if (/systemd\[1\]: systemd \d+ running/.test(line) || /^Welcome to .*Debian/.test(line)) return 3;
  return undefined;
}

/**
 * Splits a console holding several boots (the VM tests append every boot of a machine to
 * one log; init.log keeps every boot) at the lines that begin a boot phase again.
 */
export function splitBoots(lines: readonly string[]): string[][] {
  const boots: string[][] = [[]];
  let phase = -1;
  for (const line of lines) {
    const p = phaseStart(line);
    if (p !== undefined) {
      if (p <= phase && (boots[boots.length - 1]?.length ?? 0) > 0) {
        boots.push([]);
      }
      phase = p;
    }
    boots[boots.length - 1]?.push(line);
  }
  return boots.filter((b) => b.some((l) => l.trim() !== ''));
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Formats milliseconds the way the chart labels them: "850ms", "1.23s", "1min 5.0s". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  return `${Math.floor(ms / 60_000)}min ${((ms % 60_000) / 1000).toFixed(1)}s`;
}

interface Collected {
  printkFirstUserspaceMs?: number;
  printkLastMs?: number;
  initramfs: Array<{ stage: string; tMs: number }>;
  initStartMs?: number;
  /** From "Init starting" (Node's clock, ms since its process started): now, bootstrap done, berth.mjs reached. */
  node?: NodeStartupFigures;
  stages: Array<{ stage: string; tMs: number; durationMs: number }>;
  readyMs?: number;
  failed?: string;
  containers: Map<string, { firstMs: number; lastMs: number; startedMs?: number; outputMs?: number; healthyMs?: number }>;
  containerOutputMs?: number;
  peerReadyMs?: number;
  startup?: Record<string, number>;
  chain: Map<string, { atMs?: number; durationMs?: number }>;
  /** critical-chain lines in console order: a line's dependency is the line below it. */
  chainLines: Array<{ name: string; atMs?: number; durationMs?: number }>;
  sawSystemd: boolean;
}

function collect(lines: readonly string[]): Collected {
  const c: Collected = { initramfs: [], stages: [], containers: new Map(), chain: new Map(), chainLines: [], sawSystemd: false };
  for (const raw of lines) {
    let line = raw;
    const printk = PRINTK.exec(line);
    if (printk) {
      const ms = Number(printk[1]) * 1000 + Number((printk[2] ?? '0').padEnd(6, '0')) / 1000;
      c.printkLastMs = ms;
      line = printk[3] ?? '';
      if (c.printkFirstUserspaceMs === undefined && /Run \S+ as init process|Trying to move old root|systemd\[1\]:/.test(line)) c.printkFirstUserspaceMs = ms;
    }
    const ready = READY.exec(line);
    if (ready) c.readyMs = Number(ready[3]);
    const failed = FAILED.exec(line);
    if (failed) c.failed = failed[1] ?? '';
    const peer = PEER_READY.exec(line);
    if (peer) c.peerReadyMs = Math.round(Number(peer[1]) * 1000);
    const output = CONTAINER_OUTPUT.exec(line);
    if (output) c.containerOutputMs ??= Math.round(Number(output[1]) * 1000);
    const startup = STARTUP_FINISHED.exec(line);
    if (startup) {
      c.sawSystemd = true;
      c.startup = {};
      for (const part of (startup[1] ?? '').split(' + ')) {
        const m = /^(.*?) \(([a-z]+)\)$/.exec(part.trim());
        const span = m ? parseSystemdSpan(m[1] ?? '') : undefined;
        if (m && span !== undefined) c.startup[m[2] as string] = span;
      }
    }
    const chain = CHAIN_LINE.exec(line.trimEnd());
    if (chain && (chain[2] !== undefined || chain[3] !== undefined)) {
      c.sawSystemd = true;
      const name = chain[1] as string;
      const atMs = chain[2] === undefined ? undefined : parseSystemdSpan(chain[2]);
      const durationMs = chain[3] === undefined ? undefined : parseSystemdSpan(chain[3]);
      c.chainLines.push({ name, ...(atMs === undefined ? {} : { atMs }), ...(durationMs === undefined ? {} : { durationMs }) });
    }
    if (/systemd\[1\]:|^\[\s*OK\s*\]|^Welcome to /.test(line)) c.sawSystemd = true;
    if (!/(^|\s)(level|component|msg)=/.test(line)) continue;
    const f = parseLogLine(line);
    const tMs = num(f.t_ms);
    if (f.component === 'initramfs' && f.stage !== undefined && tMs !== undefined) {
      c.initramfs.push({ stage: f.stage, tMs });
    } else if (f.component === 'init' && f.msg === 'Init starting') {
      if (tMs !== undefined) c.initStartMs = tMs;
      const [nowMs, bootstrapMs, entryMs] = [num(f.node_ms), num(f.node_bootstrap_ms), num(f.node_entry_ms)];
      if (nowMs !== undefined && bootstrapMs !== undefined && entryMs !== undefined) c.node = { nowMs, bootstrapMs, entryMs, ...(f.node_from === 'snapshot' ? { fromSnapshot: true } : {}) };
    } else if (f.msg === 'Stage done' && f.stage !== undefined && tMs !== undefined) {
      c.stages.push({ stage: f.stage, tMs, durationMs: num(f.duration_ms) ?? 0 });
    }
    if (f.container !== undefined && tMs !== undefined) {
      const entry = c.containers.get(f.container) ?? { firstMs: tMs, lastMs: tMs };
      entry.firstMs = Math.min(entry.firstMs, tMs);
      entry.lastMs = Math.max(entry.lastMs, tMs);
      const msg = f.msg ?? '';
      if (entry.healthyMs === undefined && (f.health === 'healthy' || (/\b(healthy|ready)\b/i.test(msg) && !/unhealthy|not ready/i.test(msg)))) entry.healthyMs = tMs;
      if (entry.startedMs === undefined && /\b(started|running)\b/i.test(msg)) entry.startedMs = tMs;
      if (entry.outputMs === undefined && msg === 'Container first output') entry.outputMs = tMs;
      c.containers.set(f.container, entry);
    }
  }
  // A unit printed with "+took" but no "@" (the chain's own root when it already finished)
  // started when the unit below it, its dependency, was done.
  c.chainLines.forEach((line, i) => {
    const below = c.chainLines[i + 1];
    let atMs = line.atMs;
    if (atMs === undefined && line.durationMs !== undefined && below?.atMs !== undefined) atMs = below.atMs + (below.durationMs ?? 0);
    if (atMs === undefined || c.chain.has(line.name)) return;
    c.chain.set(line.name, { atMs, ...(line.durationMs === undefined ? {} : { durationMs: line.durationMs }) });
  });
  return c;
}

/** Node's start-up as the "Init starting" line gives it (node_ms, node_bootstrap_ms, node_entry_ms, node_from=snapshot). */
export interface NodeStartupFigures {
  nowMs: number;
  bootstrapMs: number;
  entryMs: number;
  /** Started from init's startup snapshot: no module loader, no bundle to load. */
  fromSnapshot?: boolean;
}

/**
 * The span from the initramfs's last step to "Init starting", split by Node's own clock: the
 * process started at initStart - nowMs (after switch_root and berth-pid1), its bootstrap ended
 * bootstrapMs later, berth.mjs began at entryMs, and loading init's bundle took the rest. From
 * init's startup snapshot, the bootstrap includes the snapshot, and init's main follows it.
 * Undefined when the figures do not fit the guest clock's span (a line from another boot).
 */
export function nodeStartupBars(node: NodeStartupFigures, initStartMs: number, lastInitramfsMs: number): TimelineBar[] | undefined {
  const processStart = initStartMs - node.nowMs;
  if (processStart < lastInitramfsMs || !(node.bootstrapMs <= node.entryMs && node.entryMs <= node.nowMs)) return undefined;
  if (node.fromSnapshot === true) {
    return [
      { label: 'initramfs: switch_root, berth-pid1', group: 'initramfs', startMs: lastInitramfsMs, endMs: processStart },
      { label: "node: V8, bootstrap and init's startup snapshot", group: 'init', startMs: processStart, endMs: processStart + node.bootstrapMs },
      { label: "node: init's main to Init starting", group: 'init', startMs: processStart + node.bootstrapMs, endMs: initStartMs },
    ];
  }
  return [
    { label: 'initramfs: switch_root, berth-pid1', group: 'initramfs', startMs: lastInitramfsMs, endMs: processStart },
    { label: 'node: V8 and bootstrap', group: 'init', startMs: processStart, endMs: processStart + node.bootstrapMs },
    { label: 'node: module loader to berth.mjs', group: 'init', startMs: processStart + node.bootstrapMs, endMs: processStart + node.entryMs },
    { label: "node: init's bundle loaded", group: 'init', startMs: processStart + node.entryMs, endMs: initStartMs },
  ];
}

/** Builds the timeline of one boot of a console. */
export function parseBootConsole(text: string, options: TimelineOptions = {}): BootTimeline {
  const boots = splitBoots(cleanLines(text));
  const count = Math.max(boots.length, 1);
  const wanted = options.boot ?? -1;
  const index = wanted < 0 ? count + wanted + 1 : wanted;
  const warnings: string[] = [];
  if (index < 1 || index > count) warnings.push(`Boot ${wanted} not found: the console holds ${count} boot(s); showing the last`);
  const chosen = index >= 1 && index <= count ? index : count;
  const c = collect(boots[chosen - 1] ?? []);
  const bars: TimelineBar[] = [];
  const markers: TimelineMarker[] = [];
  const isBerth = c.initramfs.length > 0 || c.stages.length > 0 || c.readyMs !== undefined;
  const kind: BootTimeline['kind'] = isBerth ? 'berth' : c.sawSystemd ? 'systemd' : 'unknown';

  // Firmware: measured outside the guest when given; systemd-boot's own figures otherwise.
  let shift = 0;
  const loaderMs = (c.startup?.firmware ?? 0) + (c.startup?.loader ?? 0);
  if (options.firmwareMs !== undefined) {
    shift = options.firmwareMs;
    bars.push({ label: 'firmware + boot loader', group: 'firmware', startMs: 0, endMs: shift });
  } else if (loaderMs > 0) {
    shift = loaderMs;
    if (c.startup?.firmware) bars.push({ label: 'firmware (systemd-boot estimate)', group: 'firmware', startMs: 0, endMs: c.startup.firmware });
    if (c.startup?.loader) bars.push({ label: 'boot loader', group: 'firmware', startMs: c.startup.firmware ?? 0, endMs: loaderMs });
  }
  const at = (guestMs: number) => guestMs + shift;

  if (isBerth) {
    const firstInitramfs = c.initramfs[0];
    const kernelEnd = firstInitramfs?.tMs ?? c.printkFirstUserspaceMs;
    if (kernelEnd !== undefined) bars.push({ label: 'kernel', group: 'kernel', startMs: at(0), endMs: at(kernelEnd) });
    else warnings.push('No initramfs lines or kernel timestamps: the kernel span is unknown');
    const firstStage = c.stages[0];
    const initStart = c.initStartMs ?? (firstStage ? firstStage.tMs - firstStage.durationMs : undefined);
    if (firstInitramfs) {
      const lastInitramfs = c.initramfs[c.initramfs.length - 1] ?? firstInitramfs;
      bars.push({ label: 'initramfs', group: 'initramfs', startMs: at(firstInitramfs.tMs), endMs: at(initStart ?? lastInitramfs.tMs) });
      for (let i = 1; i < c.initramfs.length; i += 1) {
        const prev = c.initramfs[i - 1] as { tMs: number };
        const step = c.initramfs[i] as { stage: string; tMs: number };
        bars.push({ label: `initramfs: ${step.stage}`, group: 'initramfs', startMs: at(prev.tMs), endMs: at(step.tMs) });
      }
      const nodeBars = initStart !== undefined && c.node ? nodeStartupBars(c.node, initStart, lastInitramfs.tMs) : undefined;
      if (nodeBars) {
        bars.push(...nodeBars.map((b) => ({ ...b, startMs: at(b.startMs), endMs: at(b.endMs) })));
      } else if (initStart !== undefined && initStart > lastInitramfs.tMs) {
        bars.push({ label: 'initramfs: switch_root, node start', group: 'initramfs', startMs: at(lastInitramfs.tMs), endMs: at(initStart) });
      }
    }
    const lastStage = c.stages[c.stages.length - 1];
    const initEnd = c.readyMs ?? lastStage?.tMs;
    if (initStart !== undefined && initEnd !== undefined) {
      bars.push({ label: 'init (PID 1) to ready', group: 'init', startMs: at(initStart), endMs: at(initEnd) });
    }
    for (const s of c.stages) bars.push({ label: s.stage, group: 'stage', startMs: at(s.tMs - s.durationMs), endMs: at(s.tMs) });
    if (c.readyMs !== undefined) markers.push({ label: 'BERTH-READY', atMs: at(c.readyMs) });
    else if (c.failed !== undefined) warnings.push(`Boot failed: ${c.failed}`);
    else warnings.push('No BERTH-READY line: the boot did not finish in this console');
  } else if (kind === 'systemd') {
    const kernelMs = c.startup?.kernel ?? c.printkFirstUserspaceMs;
    const initrdMs = c.startup?.initrd ?? 0;
    if (kernelMs !== undefined) {
      bars.push({ label: c.startup?.initrd === undefined ? 'kernel (+ initramfs)' : 'kernel', group: 'kernel', startMs: at(0), endMs: at(kernelMs) });
      if (initrdMs > 0) bars.push({ label: 'initrd', group: 'initramfs', startMs: at(kernelMs), endMs: at(kernelMs + initrdMs) });
      const userspaceStart = kernelMs + initrdMs;
      if (c.startup?.userspace !== undefined) {
        bars.push({ label: 'systemd (userspace)', group: 'systemd', startMs: at(userspaceStart), endMs: at(userspaceStart + c.startup.userspace) });
      }
      const units = [...c.chain.entries()]
        .map(([name, u]) => {
          const start = userspaceStart + (u.atMs ?? 0);
          return u.durationMs === undefined
            ? { label: name, group: 'unit' as const, startMs: at(start), endMs: at(start), isPoint: true }
            : { label: name, group: 'unit' as const, startMs: at(start), endMs: at(start + u.durationMs) };
        })
        .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
      bars.push(...units);
    } else {
      warnings.push('No "Startup finished" line or kernel timestamps: the systemd boot cannot be placed');
    }
    if (c.peerReadyMs !== undefined) markers.push({ label: 'system up', atMs: at(c.peerReadyMs) });
  } else {
    warnings.push('Neither berth nor systemd boot lines found in this console');
    if (c.printkLastMs !== undefined) bars.push({ label: 'kernel (timestamps seen)', group: 'kernel', startMs: at(0), endMs: at(c.printkLastMs) });
  }

  for (const [name, ct] of c.containers) {
    // From 'Container creating' until healthy; without a health check until its first output
    // (running as a user sees it), else until crun was started.
    const end = ct.healthyMs ?? ct.outputMs ?? ct.startedMs ?? ct.lastMs;
    const state =
      ct.healthyMs !== undefined ? ': until healthy' : ct.outputMs !== undefined ? ': until first output' : ct.startedMs !== undefined ? ': until started (no output, no health yet)' : ' (not started yet)';
    bars.push({ label: `container ${name}${state}`, group: 'container', startMs: at(ct.firstMs), endMs: at(end) });
  }
  if (c.containerOutputMs !== undefined) markers.push({ label: 'first container output', atMs: at(c.containerOutputMs) });

  const endMs = Math.max(0, ...bars.map((b) => b.endMs), ...markers.map((m) => m.atMs));
  return { kind, origin: options.firmwareMs !== undefined ? 'qemu-start' : shift > 0 ? 'firmware-start' : 'kernel-start', bars, markers, endMs, boot: { index: chosen, count }, warnings };
}

/** The timeline as text rows (for the terminal): start, end, duration, label. */
export function summarizeTimeline(timeline: BootTimeline): string {
  const lines = timeline.bars.map(
    (b) => `${formatMs(b.startMs).padStart(9)} ${formatMs(b.endMs).padStart(9)} ${(b.isPoint ? '' : formatMs(b.endMs - b.startMs)).padStart(9)}  ${b.label}`,
  );
  for (const m of timeline.markers) lines.push(`${formatMs(m.atMs).padStart(9)} ${''.padStart(9)} ${''.padStart(9)}  ${m.label}`);
  for (const w of timeline.warnings) lines.push(`warning: ${w}`);
  return `${'start'.padStart(9)} ${'end'.padStart(9)} ${'took'.padStart(9)}  what\n${lines.join('\n')}\n`;
}
