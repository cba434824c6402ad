/**
 * How `berth ctl` prints answers for people: aligned tables and short summaries. Pure: values
 * in, text out (the status takes "now" as a parameter).
 */
import type { ApiProblem, HostStatus } from '../../../lib/api/index.ts';

/** Pads columns to the widest cell; the last column is not padded. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  return all.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

/** 1536 -> "1.5 KiB"; binary units, one decimal from KiB up. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 3725 -> "1h 2m 5s"; whole seconds, the largest units only. */
export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const parts = [days > 0 ? `${days}d` : '', hours > 0 ? `${hours}h` : '', minutes > 0 ? `${minutes}m` : '', `${s % 60}s`].filter(Boolean);
  return parts.slice(0, 3).join(' ');
}

/** GET /v1/status as the API sends it (lib/api). */
export type StatusView = HostStatus;

/** init's line: its pid, memory and how often PID 1 had to restart it (and why, the last time). */
function formatInit(init: NonNullable<StatusView['init']>): string {
  const restarts = init.restarts === 0 ? 'never restarted' : `restarted ${init.restarts} time${init.restarts === 1 ? '' : 's'} (last: ${init.last_restart_reason ?? 'unknown'})`;
  return `pid ${init.pid}, RSS ${formatBytes(init.rss_bytes)}, ${restarts}`;
}

/** The human form of a host status. */
export function formatStatus(status: StatusView): string {
  const unknown = '(unknown)';
  const lines: Array<[string, string]> = [
    ['Host', `${status.hostname} (${status.state})`],
    ['Version', `${status.version} on slot ${status.slot}`],
    ['Booted', status.boot_time === null ? unknown : `${status.boot_time} (up ${status.uptime_s === null ? '?' : formatDuration(status.uptime_s)})`],
    // An older host's status has no init field.
    ['Init', status.init === null || status.init === undefined ? unknown : formatInit(status.init)],
    [
      'CPU',
      status.cpu === null
        ? unknown
        : `${status.cpu.model || 'unknown model'}, ${status.cpu.cores} core${status.cpu.cores === 1 ? '' : 's'}, load ${status.cpu.load_percent}% (${status.cpu.load_average.join(' ')})`,
    ],
    [
      'Memory',
      status.memory === null
        ? unknown
        : `${formatBytes(status.memory.used_bytes)} used of ${formatBytes(status.memory.total_bytes)} (${formatBytes(status.memory.available_bytes)} available)`,
    ],
  ];
  const width = Math.max(...lines.map(([label]) => label.length));
  let out = lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
  if (status.disks !== null && status.disks.length > 0) {
    out += '\n' + renderTable(
      ['MOUNT', 'DEVICE', 'FS', 'SIZE', 'USED'],
      status.disks.map((d) => [d.mount, d.device, d.fs_type, formatBytes(d.size_bytes), d.size_bytes > 0 ? `${formatBytes(d.used_bytes)} (${Math.round((d.used_bytes / d.size_bytes) * 100)}%)` : formatBytes(d.used_bytes)]),
    );
  }
  if (status.interfaces !== null && status.interfaces.length > 0) {
    out += '\n' + renderTable(
      ['INTERFACE', 'STATE', 'MAC', 'ADDRESSES'],
      status.interfaces.map((nic) => [nic.name, nic.up ? 'up' : 'down', nic.mac || '-', nic.addresses.join(', ') || '-']),
    );
  }
  for (const warning of status.warnings) out += `\nWarning: ${warning}`;
  if (status.warnings.length > 0) out += '\n';
  return out;
}

/** A problem as the API sends it. */
export type ProblemView = ApiProblem;

/** `FILE:line:col: path: message`, as the host prints config problems. */
export function formatProblemLine(file: string, problem: ProblemView): string {
  const where = problem.line > 0 ? `${file}:${problem.line}:${problem.column}` : file;
  return problem.path === '' ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`;
}

/** The human form of POST /v1/config/validate's answer. */
export function formatValidation(file: string, result: { valid: boolean; problems: ProblemView[]; warnings: ProblemView[] }): string {
  const lines: string[] = [];
  if (result.valid) lines.push(`${file} is a valid machine config`);
  else lines.push(`${file} is not a valid machine config (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}):`);
  for (const problem of result.problems) lines.push(`  ${formatProblemLine(file, problem)}`);
  for (const warning of result.warnings) lines.push(`  warning: ${formatProblemLine(file, warning)}`);
  return lines.join('\n') + '\n';
}
