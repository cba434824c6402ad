/**
 * A process and everything it started, from a snapshot of the process table: what a timed-out
 * health probe or API exec leaves inside a container once `crun exec` itself is gone. Pure: the
 * /proc/<pid>/stat texts come in.
 */

/** The parent pid in a /proc/<pid>/stat text; undefined when the text is not one. */
export function parentPidOf(stat: string): number | undefined {
  // The command name (field 2) is in parentheses and may itself hold ')' and spaces: the
  // fields after it start at the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) && ppid >= 0 ? ppid : undefined;
}

/** Whether a /proc/<pid>/stat text is a zombie or a dead task (nothing left to kill). */
export function isExited(stat: string): boolean {
  const close = stat.lastIndexOf(')');
  const state = stat.slice(close + 2, close + 3);
  return state === 'Z' || state === 'X';
}

/**
 * `root` and all its descendants in a pid -> parent pid map, parents before children. A pid
 * missing from the map is still returned for `root` (it may have just exited); a cycle (pid
 * reuse between two reads) cannot loop.
 */
export function processTree(root: number, parents: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    if (pid === ppid) continue;
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  }
  const out: number[] = [];
  const seen = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    for (const child of (children.get(pid) ?? []).sort((a, b) => a - b)) queue.push(child);
  }
  return out;
}
