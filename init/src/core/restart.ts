/**
 * A restart of init's Node by berth-pid1, as data: whether this start is one (from the
 * environment PID 1 passes), and which processes the old init left in init.scope are
 * stale and must go before their replacements start. Pure.
 */

/** What berth-pid1 tells a restarted init (native/berth-pid1.c). */
export interface InitRestart {
  /** Restarts of init's Node since boot, at least 1. */
  count: number;
  /** Why the previous one ended: `exit-code:<n>`, `signal:<NAME>` or `heap-exhausted`. */
  lastExit: string;
}

/** Environment variables berth-pid1 sets for a restarted init. */
export const RESTART_ENV = { count: 'BERTH_INIT_RESTARTS', lastExit: 'BERTH_INIT_LAST_EXIT' } as const;

/** The restart this start is, or undefined on a boot (no or malformed count). */
export function parseInitRestart(env: Readonly<Record<string, string | undefined>>): InitRestart | undefined {
  const raw = env[RESTART_ENV.count];
  if (raw === undefined || !/^[1-9]\d{0,8}$/.test(raw)) return undefined;
  const lastExit = env[RESTART_ENV.lastExit] ?? '';
  return { count: Number(raw), lastExit: /^[a-z-]+(:[A-Za-z0-9-]+)?$/.test(lastExit) ? lastExit : 'unknown' };
}

/** One process of init.scope, from /proc/<pid>/stat. */
export interface ScopeProcess {
  pid: number;
  /** The executable's name (comm, at most 15 characters). */
  comm: string;
  /** Session id: the debug shell's commands share the shell's session. */
  session: number;
}

/**
 * Processes that outlive init on purpose and are never killed on a restart: container
 * monitors and the OCI runtime holding a container (their containers are re-adopted).
 */
export const SURVIVING_COMMS = ['berth-monitor', 'conmon', 'crun'] as const;

/** Parses /proc/<pid>/stat: `pid (comm) state ppid pgrp session ...`; comm may hold spaces and parentheses. */
export function parseProcStat(text: string): ScopeProcess | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const fields = text.slice(close + 2).split(' ');
  const session = Number(fields[3]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isSafeInteger(session)) return undefined;
  return { pid, comm: text.slice(open + 1, close), session };
}

/**
 * The pids to kill before a restarted init starts its host daemons again: everything the old
 * init left in init.scope (dhcpcd, chronyd, status probes, a slot writer), except this init,
 * the adopted debug shell's session and SURVIVING_COMMS.
 */
export function planStaleKills(processes: readonly ScopeProcess[], self: number, keepSessions: readonly number[]): number[] {
  return processes
    .filter((p) => p.pid !== self && p.pid !== 1 && !keepSessions.includes(p.session) && !(SURVIVING_COMMS as readonly string[]).includes(p.comm))
    .map((p) => p.pid)
    .sort((a, b) => a - b);
}
