/**
 * The output of `berth vm test`: TAP version 14 lines, the one-line summary and the exit status,
 * as functions of the check results. Pure.
 */

/** What became of one check. */
export type CheckOutcome = { status: 'passed'; detail?: string } | { status: 'failed'; message: string } | { status: 'not-run'; reason: string };

/** One TAP test point (with a YAML diagnostic block when it failed), ending in a newline. */
export function tapPoint(n: number, description: string, outcome: CheckOutcome, line: number, source: string): string {
  const desc = description.replace(/#/g, '\\#').replace(/\n/g, ' ');
  if (outcome.status === 'passed') return `ok ${n} - ${desc}${outcome.detail ? ` (${outcome.detail.replace(/#/g, '\\#')})` : ''}\n`;
  const message = outcome.status === 'failed' ? outcome.message : `not run: ${outcome.reason}`;
  const block = message
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `not ok ${n} - ${desc}\n  ---\n  message: |-\n${block}\n  at: ${source}:${line}\n  ...\n`;
}

export interface Tally {
  passed: number;
  failed: number;
  notRun: number;
}

export function tally(outcomes: readonly CheckOutcome[]): Tally {
  return {
    passed: outcomes.filter((o) => o.status === 'passed').length,
    failed: outcomes.filter((o) => o.status === 'failed').length,
    notRun: outcomes.filter((o) => o.status === 'not-run').length,
  };
}

/** The last line: `# berth vm test examples/web/test.yaml: 4 passed, 1 failed, 0 not run (212 s)`. */
export function summaryLine(spec: string, outcomes: readonly CheckOutcome[], elapsedMs: number): string {
  const t = tally(outcomes);
  const verdict = t.failed + t.notRun === 0 && outcomes.length > 0 ? 'PASS' : 'FAIL';
  return `# ${verdict} berth vm test ${spec}: ${t.passed} passed, ${t.failed} failed, ${t.notRun} not run (${Math.round(elapsedMs / 1000)} s)\n`;
}

/** 0 when every check passed, 1 otherwise (a check failed or did not run). */
export function exitStatus(outcomes: readonly CheckOutcome[]): number {
  const t = tally(outcomes);
  return outcomes.length > 0 && t.failed === 0 && t.notRun === 0 ? 0 : 1;
}
