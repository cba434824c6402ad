/**
 * `berth ctl` commands for changing the machine config (plan, apply, try, confirm) and for
 * updates (status, check, approve, apply). Parsing and formatting are pure; running goes through the
 * CtlRequests and io given (no effects of its own besides the pause between status polls).
 */
import { BerthError } from '../../../lib/errors.ts';
import { API_ROUTES, routeRequest, type ApplyReport, type ConfigPlanView, type ConfirmAnswer, type PlanAnswer, type UpdateActionAnswer, type UpdateStatusBody } from '../../../lib/api/index.ts';
import type { CtlRequests } from './containers.ts';
import { formatBytes, formatValidation } from './format.ts';
import { usage } from '../argv.ts';

export type ConfigUpdateAction =
  | { op: 'config-plan'; file: string }
  | { op: 'config-apply'; file: string }
  | { op: 'config-try'; file: string; timeout?: string }
  | { op: 'config-confirm' }
  | { op: 'update-status' }
  | { op: 'update-check' }
  | { op: 'update-approve' }
  | { op: 'update-apply'; wait: boolean };

/** For the usage messages. */
export const CONFIG_UPDATE_COMMANDS = 'config plan|apply|try FILE, config confirm, update status|check|approve|apply';

/** The help text's lines for these commands (part of CTL_HELP). */
export const CONFIG_UPDATE_HELP = `        config plan FILE           what applying FILE would change: per section live or at next boot,
                                   containers created, recreated, removed or kept (changes nothing)
        config apply FILE          apply FILE now where possible and save it for the next boot
        config try FILE [--timeout 60s]   apply FILE, and revert unless 'config confirm' comes in time
                                   (a reboot before the confirmation boots the previous config)
        config confirm             keep the config of the pending try
        update status              phase, running and available version, progress, each reboot gate
                                   (holds now? next opens when?), bad versions, last error
        update check               check the update channel now
        update approve             open the strategy's manual gate (window, lock, soak and pin still apply)
        update apply [--wait]      install an update now and reboot into it without waiting for the
                                   reboot strategy; --wait follows it (a progress bar on a terminal)
`;

/** What args.ts found besides the words. */
export interface ConfigUpdateExtras {
  timeout: string | undefined;
  wait: boolean;
}

const TIMEOUT = /^\d+(?:ms|s|m|h)(?:\d+(?:ms|s|m|h))*$/;

/** The action for `words`, or undefined when they are not one of these commands (config get/validate are args.ts's). */
export function parseConfigUpdateAction(words: readonly string[], extras: ConfigUpdateExtras): ConfigUpdateAction | undefined {
  const [command, sub, ...rest] = words;
  const noMore = (used: number): void => {
    const left = words.slice(used);
    if (left.length > 0) throw usage(`Unexpected argument '${left[0]}' after berth ctl ${words.slice(0, used).join(' ')}`);
  };
  const file = (): string => {
    const [name] = rest;
    if (name === undefined) throw usage(`berth ctl config ${sub ?? ''} needs a FILE (a machine config, YAML)`);
    noMore(3);
    return name;
  };
  let action: ConfigUpdateAction | undefined;
  if (command === 'config') {
    if (sub === 'plan' || sub === 'apply') action = { op: `config-${sub}`, file: file() };
    else if (sub === 'try') {
      action = { op: 'config-try', file: file() };
      if (extras.timeout !== undefined) {
        if (!TIMEOUT.test(extras.timeout)) throw usage(`--timeout wants a duration like 60s or 5m, not '${extras.timeout}'`);
        action.timeout = extras.timeout;
      }
    } else if (sub === 'confirm') {
      noMore(2);
      action = { op: 'config-confirm' };
    }
  } else if (command === 'update') {
    if (sub === 'status' || sub === undefined) {
      noMore(sub === undefined ? 1 : 2);
      action = { op: 'update-status' };
    } else if (sub === 'check') {
      noMore(2);
      action = { op: 'update-check' };
    } else if (sub === 'approve') {
      noMore(2);
      action = { op: 'update-approve' };
    } else if (sub === 'apply') {
      noMore(2);
      action = { op: 'update-apply', wait: extras.wait };
    } else throw usage(`Unknown update command '${sub}': expected status, check, approve or apply`);
  }
  if (extras.timeout !== undefined && action?.op !== 'config-try') throw usage('--timeout goes with berth ctl config try');
  if (extras.wait && action?.op !== 'update-apply') throw usage('--wait goes with berth ctl update apply');
  return action;
}

export function isConfigUpdateAction(action: { op: string }): action is ConfigUpdateAction {
  return ['config-plan', 'config-apply', 'config-try', 'config-confirm', 'update-status', 'update-check', 'update-approve', 'update-apply'].includes(action.op);
}

/** The plan as the API sends it. */
export type PlanView = ConfigPlanView;

/** The plan for people: each changed section, how it takes effect, and the containers. */
export function formatPlan(plan: PlanView): string {
  if (!plan.changed) return 'No changes: the config is the one in force\n';
  const lines: string[] = [];
  for (const s of plan.sections) {
    if (s.section === 'containers') continue;
    lines.push(`${s.section}: ${s.effect === 'live' ? 'applied now' : 'at next boot'}${s.reason === undefined ? '' : ` (${s.reason})`}`);
    for (const change of s.changes) lines.push(`    ${change}`);
  }
  const acting = plan.containers.filter((c) => c.action !== 'keep');
  if (acting.length > 0) {
    lines.push('containers: applied now');
    const width = Math.max(...plan.containers.map((c) => c.name.length));
    for (const c of plan.containers) {
      const changed = c.reasons.filter((r) => !r.startsWith('shares '));
      const other = c.reasons.filter((r) => r.startsWith('shares '));
      const why = c.reasons.length > 0 ? `  (${[...(changed.length > 0 ? [`changed: ${changed.join(', ')}`] : []), ...other].join('; ')})` : '';
      lines.push(`    ${c.name.padEnd(width)}  ${c.action === 'keep' ? 'unchanged' : c.action}${why}`);
    }
  }
  lines.push(plan.reboot_required ? 'A reboot is needed for the changes marked "at next boot".' : 'Everything applies without a reboot.');
  return `${lines.join('\n')}\n`;
}

/** The answer of apply and try. */
export type ApplyReportView = ApplyReport;

/** What apply or try did, for people. */
export function formatApplyReport(file: string, report: ApplyReportView): string {
  const lines: string[] = [];
  for (const w of report.warnings) lines.push(`warning: ${file}:${w.line}:${w.column}: ${w.path === '' ? '' : `${w.path}: `}${w.message}`);
  if (!report.plan.changed) lines.push('No changes: the config is the one in force');
  for (const step of report.applied) lines.push(step.ok ? `done    ${step.detail}` : `FAILED  ${step.detail}: ${step.error ?? 'unknown error'}`);
  for (const s of report.plan.sections.filter((x) => x.effect === 'reboot')) lines.push(`at next boot  ${s.section}: ${s.changes.join('; ')}`);
  if (report.pending_try) {
    lines.push(`Trying ${file} until ${report.pending_try.deadline}: run 'berth ctl config confirm' to keep it, or it reverts`);
  } else lines.push(report.saved ? `Saved ${file} as the config for the next boot` : 'NOT saved for the next boot (the host log says why)');
  if (report.reboot_required) lines.push('Reboot to apply the rest (berth ctl reboot)');
  return `${lines.join('\n')}\n`;
}

/**
 * GET /v1/update as the API sends it, read leniently: gates are absent from hosts older than
 * the gates, rollout from hosts older than waves and halts, fleet from hosts older than reports.
 */
export type UpdateStatusView = Omit<UpdateStatusBody, 'gates' | 'rollout' | 'fleet'> & Partial<Pick<UpdateStatusBody, 'gates' | 'rollout' | 'fleet'>>;

/** One gate row: `holds` or `closed`, why, and when it next opens. */
function formatGate(g: NonNullable<UpdateStatusView['gates']>[number]): string {
  const when = g.holds ? (g.closes_at === null ? '' : `; closes ${g.closes_at}`) : g.opens_at === null ? '' : `; next opens ${g.opens_at}`;
  return `${g.holds ? 'holds ' : 'closed'}  ${g.detail}${when}`;
}

/** The update status for people. */
export function formatUpdateStatus(s: UpdateStatusView): string {
  const rows: [string, string][] = [];
  rows.push(['phase', s.configured ? s.phase : 'off (no update: section in the machine config)']);
  rows.push(['running', `${s.current_version ?? 'unknown'} (slot ${s.booted_slot ?? '?'})`]);
  if (s.available_version !== null) rows.push([s.phase === 'rolled-back' ? 'rolled back' : s.phase === 'succeeded' ? 'installed' : 'target', `${s.available_version}${s.target_slot === null ? '' : ` (slot ${s.target_slot})`}`]);
  if (s.strategy !== null) rows.push(['strategy', s.strategy]);
  for (const g of s.gates ?? []) rows.push([`gate ${g.gate}`, formatGate(g)]);
  const r = s.rollout;
  if (r) {
    const wave = r.wave === null ? '' : `, wave ${r.wave} of ${r.waves ?? '?'}${r.eligible_at === null ? '' : `, eligible ${r.eligible_at}`}`;
    rows.push(['channel', `${r.version}: ${r.decision}${wave}; metadata expires ${r.metadata_expires}`]);
    if (r.halted_versions.length > 0) rows.push(['halted', `${r.halted_versions.join(', ')}${r.running_halted ? ' (the running version is halted: this host stays on it)' : ''}`]);
  }
  const f = s.fleet;
  if (f) {
    if (f.halt) rows.push(['fleet halt', `${f.halt.version} halted by ${f.halt.by === 'policy' ? 'the halt policy' : 'an operator'} since ${f.halt.since}: ${f.halt.reason} (not marked bad; goes on after berth fleet resume ${f.halt.version})`]);
    const when = f.last_report_at === null ? '' : ` (last ${f.last_report_at})`;
    const reports = { pending: 'none sent yet', on: `accepted${when}`, failing: `failing${when}: ${f.report_error ?? 'unknown error'}`, off: 'off: the FleetLock server is not a berth coordinator (no /v1/report)' }[f.reports];
    rows.push(['fleet reports', reports]);
  }
  if (s.progress !== null) rows.push([s.progress.stage === 'download' ? 'download' : 'write', formatProgress(s.progress)]);
  if (s.apply_requested) rows.push(['apply', 'requested: reboots as soon as the update is staged']);
  if (s.bad_versions.length > 0) rows.push(['bad versions', s.bad_versions.join(', ')]);
  if (s.last_error !== null) rows.push(['last error', `${s.last_error.message} [${s.last_error.code}]${s.failures > 0 ? `, ${s.failures} failure${s.failures === 1 ? '' : 's'} in a row` : ''}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

function formatProgress(p: NonNullable<UpdateStatusView['progress']>): string {
  const percent = p.total_bytes > 0 ? Math.floor((p.done_bytes / p.total_bytes) * 100) : 0;
  return `${percent}% (${formatBytes(p.done_bytes)} of ${formatBytes(p.total_bytes)})`;
}

/** One progress bar line (redrawn in place on a terminal). */
export function formatUpdateBar(s: UpdateStatusView, width = 30): string {
  const p = s.progress;
  const what = `${s.phase}${s.available_version === null ? '' : ` ${s.available_version}`}`;
  if (p === null) return what;
  const fraction = p.total_bytes > 0 ? Math.min(1, p.done_bytes / p.total_bytes) : 0;
  const filled = Math.round(fraction * width);
  return `${what} ${p.stage} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(p.done_bytes)}/${formatBytes(p.total_bytes)}`;
}

/** Where output goes, whether it is a terminal, and how to read a file and pause. */
export interface ConfigUpdateIo {
  out(text: string): void;
  err(text: string): void;
  readFile(path: string): Promise<string>;
  isTty?: boolean;
  sleep?(ms: number): Promise<void>;
}

/** How often `update apply --wait` asks for the status. */
export const WAIT_POLL_MS = 1000;

async function readConfigFile(io: ConfigUpdateIo, file: string): Promise<{ text: string; contentType: string }> {
  try {
    return { text: await io.readFile(file), contentType: 'application/yaml' };
  } catch (error) {
    throw new BerthError('CTL_FILE', `Cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Follows an update after `update apply --wait` until it reboots, ends at rest, or fails; returns the exit code. */
async function waitForUpdate(requests: CtlRequests, asJson: boolean, io: ConfigUpdateIo): Promise<number> {
  const sleep = (ms: number): Promise<void> => (io.sleep ? io.sleep(ms) : new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let last: UpdateStatusView | undefined;
  let lastLine = '';
  let drawn = false;
  const endBar = (): void => {
    if (drawn) io.out('\n');
    drawn = false;
  };
  for (;;) {
    let s: UpdateStatusView;
    try {
      s = (await requests.json(...routeRequest(API_ROUTES.getUpdate), 200)) as UpdateStatusView;
    } catch (error) {
      // The host went away while rebooting into the update: that is the success.
      if (last?.phase === 'rebooting') {
        endBar();
        if (!asJson) io.out(`The host is rebooting into ${last.available_version ?? 'the update'}\n`);
        return 0;
      }
      throw error;
    }
    if (asJson) {
      const line = JSON.stringify(s);
      if (line !== lastLine) io.out(`${line}\n`);
      lastLine = line;
    } else if (io.isTty === true) {
      io.out(`\r\u001b[2K${formatUpdateBar(s)}`);
      drawn = true;
    } else {
      const line = s.progress === null ? `${s.phase}${s.available_version === null ? '' : ` ${s.available_version}`}` : formatUpdateBar(s).replace(/\[[#.]+\] /, '');
      // Plain output: a line per phase and per tenth of a transfer.
      const key = `${s.phase} ${s.progress === null ? '' : Math.floor((s.progress.done_bytes / Math.max(1, s.progress.total_bytes)) * 10)}`;
      if (key !== lastLine) io.out(`${line}\n`);
      lastLine = key;
    }
    if (s.phase === 'rebooting') {
      last = s;
    } else if (['idle', 'succeeded', 'rolled-back', 'failed'].includes(s.phase) && !s.apply_requested) {
      endBar();
      if (s.phase === 'failed') {
        io.err(`berth ctl: the update failed: ${s.last_error?.message ?? 'unknown error'} [${s.last_error?.code ?? 'UPDATE_FAILED'}]\n`);
        return 1;
      }
      if (!asJson) io.out(`No update to apply: ${s.current_version ?? 'the running version'} is the latest on the channel\n`);
      return 0;
    } else last = s;
    await sleep(WAIT_POLL_MS);
  }
}

/** Runs one of these commands; errors are thrown for run.ts to print. Returns the exit code. */
export async function runConfigUpdateAction(action: ConfigUpdateAction, asJson: boolean, requests: CtlRequests, io: ConfigUpdateIo): Promise<number> {
  const print = (value: unknown): void => io.out(`${JSON.stringify(value, null, 2)}\n`);
  switch (action.op) {
    case 'config-plan': {
      const result = (await requests.json(...routeRequest(API_ROUTES.planConfig), 200, await readConfigFile(io, action.file))) as PlanAnswer;
      if (asJson) print(result);
      else if (!result.valid) io.err(formatValidation(action.file, result));
      else io.out(formatPlan(result.plan as PlanView));
      return result.valid ? 0 : 1;
    }
    case 'config-apply':
    case 'config-try': {
      const request = action.op === 'config-apply' ? routeRequest(API_ROUTES.applyConfig) : routeRequest(API_ROUTES.tryConfig, {}, { timeout: action.timeout });
      const report = (await requests.json(...request, 200, await readConfigFile(io, action.file))) as ApplyReportView;
      if (asJson) print(report);
      else io.out(formatApplyReport(action.file, report));
      return report.applied.every((s) => s.ok) ? 0 : 1;
    }
    case 'config-confirm': {
      const result = (await requests.json(...routeRequest(API_ROUTES.confirmConfig), 200)) as ConfirmAnswer;
      if (asJson) print(result);
      else io.out(result.saved ? 'Confirmed: the tried config stays and is saved for the next boot\n' : 'Confirmed, but NOT saved for the next boot (the host log says why)\n');
      return result.saved ? 0 : 1;
    }
    case 'update-status': {
      const status = (await requests.json(...routeRequest(API_ROUTES.getUpdate), 200)) as UpdateStatusView;
      if (asJson) print(status);
      else io.out(formatUpdateStatus(status));
      return 0;
    }
    case 'update-check':
    case 'update-approve':
    case 'update-apply': {
      const route = action.op === 'update-check' ? API_ROUTES.checkUpdate : action.op === 'update-approve' ? API_ROUTES.approveUpdate : API_ROUTES.applyUpdate;
      const answer = (await requests.json(...routeRequest(route), 202)) as UpdateActionAnswer;
      if (asJson) print(answer);
      else io.out(`${answer.message}\n`);
      if (action.op === 'update-apply' && action.wait) return waitForUpdate(requests, asJson, io);
      return 0;
    }
  }
}
