/**
 * How `berth ctl` shows containers and images to people: the ps and images tables, an
 * inspected container, removal summaries, and the pull progress line. Pure: values in, text out
 * ("now" comes in as a parameter).
 */
import { dump } from 'js-yaml';
import type { ContainerDetail, ContainerSummary, ImageSummary, PullProgressEvent, RemovalResult } from '../../../lib/api/index.ts';
import { formatBytes, formatDuration, renderTable } from './format.ts';

// The wire shapes are the API's contract in lib/api, which the server in init answers with.
/** A container as GET /v1/containers sends it. */
export type ContainerView = ContainerSummary;
/** A container as GET /v1/containers/{name} sends it. */
export type ContainerDetailView = ContainerDetail;
/** An image as GET /v1/images sends it. */
export type ImageView = ImageSummary;
/** What a removal or prune took away. */
export type RemovalView = RemovalResult;
/** One pull progress event. */
export type PullProgressView = PullProgressEvent;

/** `sha256:0123456789abcdef...` -> `0123456789ab`. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

function since(iso: string | null, now: Date): string {
  if (iso === null) return '-';
  const seconds = (now.getTime() - new Date(iso).getTime()) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? formatDuration(seconds) : '-';
}

/** `running`, `exited (3)`, `failed`: the state with the exit code when it matters. */
function stateText(c: ContainerView): string {
  if ((c.state === 'exited' || c.state === 'restarting') && c.exit_code !== null) return `${c.state} (${c.exit_code})`;
  return c.state;
}

/** The `berth ctl ps` table. */
export function formatContainers(containers: readonly ContainerView[], now: Date): string {
  if (containers.length === 0) return 'No containers (the machine config declares none)\n';
  return renderTable(
    ['NAME', 'IMAGE', 'STATE', 'HEALTH', 'RESTARTS', 'UP', 'PORTS', 'ADDRESS'],
    containers.map((c) => [
      c.critical ? `${c.name}*` : c.name,
      c.image,
      stateText(c),
      c.health ?? '-',
      String(c.restarts),
      c.state === 'running' ? since(c.started_at, now) : '-',
      c.ports.join(',') || '-',
      c.addresses.join(',') || (c.network_mode === 'bridge' ? '-' : c.network_mode),
    ]),
  ) + (containers.some((c) => c.critical) ? '* critical: the boot is judged by it\n' : '');
}

/** The `berth ctl inspect NAME` text: facts, then the config as declared (YAML). */
export function formatInspect(c: ContainerDetailView, now: Date): string {
  const lines: Array<[string, string]> = [
    ['Name', `${c.name}${c.critical ? ' (critical)' : ''}`],
    ['Image', c.image],
    ['State', stateText(c)],
    ['Health', c.health ?? 'no health check'],
    ['Pid', c.pid === null ? '-' : String(c.pid)],
    ['Started', c.started_at === null ? 'never' : `${c.started_at}${c.state === 'running' ? ` (up ${since(c.started_at, now)})` : ''}`],
    ['Restarts', String(c.restarts)],
    ['Network', `${c.network_mode}${c.addresses.length > 0 ? ` ${c.addresses.join(', ')}` : ''}`],
    ['Ports', c.ports.join(', ') || '-'],
  ];
  if (c.error !== null) lines.push(['Error', c.error]);
  const width = Math.max(...lines.map(([label]) => label.length));
  const facts = lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
  const config = dump(c.config, { lineWidth: 120 }).trimEnd().split('\n').map((line) => `  ${line}`).join('\n');
  return `${facts}\nConfig:\n${config}\n`;
}

/** The `berth ctl images` table. */
export function formatImages(images: readonly ImageView[]): string {
  if (images.length === 0) return 'No images\n';
  return renderTable(
    ['REFERENCE', 'DIGEST', 'SIZE', 'CREATED', 'USED BY'],
    images.map((i) => [
      `${i.reference}${i.preloaded ? ' (preloaded)' : ''}`,
      shortDigest(i.digest),
      formatBytes(i.size_bytes),
      i.created === null ? '-' : i.created.replace(/\.\d+Z$/, 'Z'),
      i.used_by.join(',') || '-',
    ]),
  );
}

/** One line saying what a removal or prune freed. */
export function formatRemoval(what: string, result: RemovalView): string {
  const images = result.removed_images.length > 0 ? `removed ${result.removed_images.join(', ')}; ` : '';
  return `${what}: ${images}${result.removed_blobs} blob${result.removed_blobs === 1 ? '' : 's'} and ${result.removed_layers} layer${result.removed_layers === 1 ? '' : 's'} deleted, ${formatBytes(result.freed_bytes)} freed\n`;
}

/** The blobs of a pull as its progress events have shown them so far. */
export class PullTracker {
  private readonly blobs = new Map<string, PullProgressView>();

  /** Records an event; returns true when a blob started or finished (a line for non-TTY output). */
  record(event: PullProgressView): boolean {
    const before = this.blobs.get(event.digest);
    this.blobs.set(event.digest, event);
    return before === undefined || (before.status === 'downloading' && event.status !== 'downloading');
  }

  totals(): { done: number; total: number; blobs: number; finished: number } {
    let done = 0;
    let total = 0;
    let finished = 0;
    for (const blob of this.blobs.values()) {
      done += blob.done_bytes;
      total += blob.total_bytes;
      if (blob.status !== 'downloading') finished += 1;
    }
    return { done, total, blobs: this.blobs.size, finished };
  }
}

/** The redrawn progress line of a pull on a terminal: `REF [#####.....] 45% 1.2 MiB/2.6 MiB 2/3 blobs`. */
export function formatPullBar(reference: string, tracker: PullTracker, width = 30): string {
  const { done, total, blobs, finished } = tracker.totals();
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  return `${reference} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)} ${finished}/${blobs} blobs`;
}

/** The plain line for one event when output is not a terminal (start and end of each blob). */
export function formatPullLine(event: PullProgressView): string {
  const what = `${event.kind} ${shortDigest(event.digest)}`;
  if (event.status === 'exists') return `${what}: already held (${formatBytes(event.total_bytes)})\n`;
  if (event.status === 'done') return `${what}: done (${formatBytes(event.total_bytes)})\n`;
  return `${what}: downloading ${formatBytes(event.total_bytes)}\n`;
}

/** The closing line of a pull. */
export function formatPulled(image: ImageView): string {
  return `Pulled ${image.reference} (${shortDigest(image.digest)}, ${formatBytes(image.size_bytes)})${image.used_by.length > 0 ? `, used by ${image.used_by.join(', ')}` : ''}\n`;
}
