/**
 * Draws a boot timeline as an SVG document, in the manner of `systemd-analyze plot`: one row
 * per bar on a shared time axis, each labelled with its duration, readiness lines as
 * vertical markers. Pure: model in, SVG text out.
 */
import { formatMs, type BarGroup, type BootTimeline } from './boot-timeline.ts';

export interface SvgOptions {
  title?: string;
  /** Force the axis to end here (so two charts share a scale); default: the timeline's end. */
  axisEndMs?: number;
  /** Pixels of the time axis (default 1000). */
  widthPx?: number;
}

const GROUP_STYLE: Record<BarGroup, { fill: string; name: string }> = {
  firmware: { fill: '#9e9e9e', name: 'firmware, boot loader' },
  kernel: { fill: '#e69138', name: 'kernel' },
  initramfs: { fill: '#f1c232', name: 'initramfs' },
  init: { fill: '#9fc5e8', name: 'PID 1 (init)' },
  stage: { fill: '#3d85c6', name: 'init stage' },
  container: { fill: '#6aa84f', name: 'container until healthy' },
  systemd: { fill: '#b4a7d6', name: 'systemd userspace' },
  unit: { fill: '#8e7cc3', name: 'unit (critical chain)' },
};

const ROW = 20;
const BAR = 14;
const LEFT = 16;
const RIGHT = 16;
const CHAR_PX = 6.6;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A tick step giving at most ~16 ticks over `spanMs`, from 100 ms up. */
export function tickStepMs(spanMs: number): number {
  const steps = [100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000];
  return steps.find((s) => spanMs / s <= 16) ?? 600_000;
}

const fmtTick = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(ms % 100 === 0 ? 1 : 2)}s`);
const px = (n: number) => Math.round(n * 10) / 10;

const ORIGIN_TEXT: Record<BootTimeline['origin'], string> = {
  'qemu-start': '0 = QEMU start',
  'firmware-start': '0 = firmware start (systemd-boot estimate)',
  'kernel-start': '0 = kernel start (guest clock); firmware not measured',
};

/** Renders the timeline as a standalone SVG document. */
export function renderBootSvg(timeline: BootTimeline, options: SvgOptions = {}): string {
  const plotWidth = options.widthPx ?? 1000;
  const step = tickStepMs(Math.max(options.axisEndMs ?? timeline.endMs, 100));
  const axisEnd = Math.max(step, Math.ceil(Math.max(options.axisEndMs ?? 0, timeline.endMs) / step) * step);
  const scale = plotWidth / axisEnd;
  const x = (ms: number) => LEFT + ms * scale;
  const groups = [...new Set(timeline.bars.map((b) => b.group))];
  const headerHeight = 58 + (timeline.warnings.length > 0 ? 16 * timeline.warnings.length : 0);
  const legendHeight = 22;
  const axisTop = headerHeight + legendHeight + 16;
  const rowsTop = axisTop + 8;
  const rowsHeight = Math.max(timeline.bars.length, 1) * ROW;
  const height = rowsTop + rowsHeight + 30 + 13 * Math.max(0, timeline.markers.length - 1);
  const width = LEFT + plotWidth + RIGHT;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  );
  const title = options.title ?? `${timeline.kind === 'berth' ? 'berth' : timeline.kind === 'systemd' ? 'systemd' : 'unknown'} boot`;
  const readiness = timeline.markers.map((m) => `${m.label} at ${formatMs(m.atMs)}`).join(', ');
  out.push(`<text x="${LEFT}" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  out.push(
    `<text x="${LEFT}" y="42" fill="#444">${escapeXml(`${readiness || 'no readiness line'} · ${ORIGIN_TEXT[timeline.origin]}${timeline.boot.count > 1 ? ` · boot ${timeline.boot.index} of ${timeline.boot.count} in this log` : ''}`)}</text>`,
  );
  timeline.warnings.forEach((w, i) => out.push(`<text x="${LEFT}" y="${60 + i * 16}" fill="#b00">${escapeXml(w)}</text>`));
  let lx = LEFT;
  for (const g of groups) {
    const style = GROUP_STYLE[g];
    out.push(`<rect x="${px(lx)}" y="${headerHeight}" width="12" height="12" fill="${style.fill}"/>`);
    out.push(`<text x="${px(lx + 16)}" y="${headerHeight + 10}">${escapeXml(style.name)}</text>`);
    lx += 16 + style.name.length * CHAR_PX + 18;
  }
  // Time axis: grid lines through every row, labels above and below.
  for (let t = 0; t <= axisEnd; t += step) {
    const tx = px(x(t));
    out.push(`<line x1="${tx}" y1="${axisTop}" x2="${tx}" y2="${rowsTop + rowsHeight}" stroke="${t % (step * 5) === 0 ? '#bbb' : '#e4e4e4'}" stroke-width="1"/>`);
    out.push(`<text x="${tx}" y="${axisTop - 3}" text-anchor="middle" fill="#555">${fmtTick(t)}</text>`);
    out.push(`<text x="${tx}" y="${rowsTop + rowsHeight + 14}" text-anchor="middle" fill="#555">${fmtTick(t)}</text>`);
  }
  timeline.bars.forEach((bar, i) => {
    const y = rowsTop + i * ROW;
    if (i % 2 === 1) out.push(`<rect x="${LEFT}" y="${y}" width="${plotWidth}" height="${ROW}" fill="#000" fill-opacity="0.03"/>`);
    const x0 = x(bar.startMs);
    const w = Math.max(bar.isPoint ? 0 : 1.5, x(bar.endMs) - x0);
    const fill = GROUP_STYLE[bar.group].fill;
    const barY = y + (ROW - BAR) / 2;
    if (bar.isPoint) out.push(`<path d="M${px(x0)} ${px(barY)} l5 ${BAR / 2} l-5 ${BAR / 2} l-5 -${BAR / 2} z" fill="${fill}"/>`);
    else out.push(`<rect x="${px(x0)}" y="${px(barY)}" width="${px(w)}" height="${BAR}" fill="${fill}" rx="2"><title>${escapeXml(`${bar.label}: ${formatMs(bar.startMs)} → ${formatMs(bar.endMs)}`)}</title></rect>`);
    const label = bar.isPoint ? `${bar.label} @${formatMs(bar.startMs)}` : `${bar.label} (${formatMs(bar.endMs - bar.startMs)})`;
    const labelWidth = label.length * CHAR_PX;
    const rightOfBar = x0 + w + 6;
    // Labels sit right of the bar unless that runs off the chart; then left of it.
    const fits = rightOfBar + labelWidth <= LEFT + plotWidth + RIGHT;
    const lxp = fits ? rightOfBar : Math.max(LEFT, x0 - 6);
    out.push(`<text x="${px(lxp)}" y="${y + 14}"${fits ? '' : ' text-anchor="end"'}>${escapeXml(label)}</text>`);
  });
  timeline.markers.forEach((m, i) => {
    const mx = px(x(m.atMs));
    out.push(`<line x1="${mx}" y1="${axisTop}" x2="${mx}" y2="${rowsTop + rowsHeight}" stroke="#cc0000" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    const text = `${m.label} ${formatMs(m.atMs)}`;
    // Centred under its line, but kept inside the picture.
    const half = (text.length * CHAR_PX * 1.1) / 2;
    const tx = px(Math.min(Math.max(mx, half + 2), width - half - 2));
    out.push(`<text x="${tx}" y="${rowsTop + rowsHeight + 28 + i * 13}" text-anchor="middle" fill="#cc0000" font-weight="bold">${escapeXml(text)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
