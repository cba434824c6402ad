/**
 * Kills a process and all its descendants: used when a health probe or an API exec times out,
 * so nothing it started inside the container keeps running or keeps its output pipe open.
 * Effects: reads /proc, sends signals.
 */
import { promises as fsp } from 'node:fs';
import { isExited, parentPidOf, processTree } from './core/process-tree.ts';

/** Rounds of stopping newly found descendants before the kill (a fork bomb outruns no more than this). */
const MAX_ROUNDS = 20;

/** pid -> parent pid of every live process under `procRoot`. */
export async function readParentPids(procRoot = '/proc'): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  const names = await fsp.readdir(procRoot);
  await Promise.all(
    names
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        // A process may exit between readdir and read: it is simply not in the map.
        const stat = await fsp.readFile(`${procRoot}/${name}/stat`, 'utf8').catch(() => undefined);
        if (stat === undefined || isExited(stat)) return;
        const ppid = parentPidOf(stat);
        if (ppid !== undefined) parents.set(Number(name), ppid);
      }),
  );
  return parents;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/**
 * SIGSTOPs `roots` and their descendants until a round finds no new one (a stopped process
 * cannot fork, so the tree stops growing), then SIGKILLs them all. Returns the pids killed.
 */
export async function killProcessTree(roots: number | readonly number[], procRoot = '/proc'): Promise<number[]> {
  const found = new Set<number>();
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const parents = await readParentPids(procRoot);
    const tree = (typeof roots === 'number' ? [roots] : roots).flatMap((root) => processTree(root, parents)).filter((pid, index, all) => !found.has(pid) && all.indexOf(pid) === index);
    if (tree.length === 0 && round > 0) break;
    for (const pid of tree) {
      found.add(pid);
      signal(pid, 'SIGSTOP');
    }
  }
  for (const pid of found) signal(pid, 'SIGKILL');
  return [...found];
}

/** The pid a `crun exec --pid-file` wrote, or undefined when it has not (yet) or the file is not a pid. */
export async function readPidFile(path: string): Promise<number | undefined> {
  const text = await fsp.readFile(path, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return text !== undefined && Number.isInteger(pid) && pid > 1 ? pid : undefined;
}
