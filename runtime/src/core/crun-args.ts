/**
 * Argument vectors for the programs that launch containers: crun's lifecycle commands
 * (create, start, state, kill, delete, exec; the ones that start container processes go
 * through choom) and the overlayfs mount of a container's root. Pure builders; the shell runs
 * them through lib/sys/exec with an explicit environment.
 */
import { BerthError } from '../../../lib/errors.ts';
import { PATHS } from '../../../lib/layout.ts';

export const CRUN_PATH = '/usr/bin/crun';
export const MOUNT_PATH = '/usr/bin/mount';
/** util-linux choom: sets its own OOM score adjustment, then execs the command. */
export const CHOOM_PATH = '/usr/bin/choom';
/** crun's state directory for berth's containers (tmpfs: containers do not survive a reboot). */
export const CRUN_STATE_DIR = PATHS.crunStateDir;

/** The version `crun --version` prints on its first line ("crun version 1.21"), or undefined. */
export function parseCrunVersion(stdout: string): string | undefined {
  return /^crun version (\S+)/m.exec(stdout)?.[1];
}

/** Container ids become paths and cgroup names: keep them plain. */
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

function checkId(id: string): void {
  if (!CONTAINER_ID.test(id)) throw new BerthError('RUNTIME_SPEC_INVALID', `Invalid container id "${id}": letters, digits, '_', '.', '-', at most 128`);
}

function global(options: { logFile?: string }): string[] {
  const args = ['--root', CRUN_STATE_DIR];
  // crun logs its own errors here as JSON lines, so a failed create can be explained.
  if (options.logFile !== undefined) args.push('--log', options.logFile, '--log-format', 'json');
  return args;
}

export interface CreateOptions {
  bundle: string;
  /** Where crun writes the container's init pid (read back instead of parsing output). */
  pidFile: string;
  logFile?: string;
  /** Keep stdio as passed (berth pipes them into the log writer). */
  noPivot?: boolean;
}

/** `crun create`: sets up the container, leaves its process waiting for `start`. */
export function crunCreateArgs(id: string, options: CreateOptions): string[] {
  checkId(id);
  const args = [...global(options), 'create', '--bundle', options.bundle, '--pid-file', options.pidFile];
  if (options.noPivot === true) args.push('--no-pivot');
  return [...args, id];
}

/**
 * `crun run`: create and start in one, crun staying in the foreground as the container's
 * parent until it exits (its exit status is the container's), with stdio passed through.
 */
export function crunRunArgs(id: string, options: { bundle: string; logFile?: string }): string[] {
  checkId(id);
  return [...global(options), 'run', '--bundle', options.bundle, id];
}

export function crunStartArgs(id: string, options: { logFile?: string } = {}): string[] {
  checkId(id);
  return [...global(options), 'start', id];
}

/** `crun state`: JSON with status created|running|stopped and the pid. */
export function crunStateArgs(id: string): string[] {
  checkId(id);
  return [...global({}), 'state', id];
}

const SIGNAL = /^(SIG)?[A-Z0-9+-]+$|^\d+$/;

/** `crun kill <id> <signal>`; `all` signals every process of the container (for stop). */
export function crunKillArgs(id: string, signal: string, options: { all?: boolean } = {}): string[] {
  checkId(id);
  if (!SIGNAL.test(signal)) throw new BerthError('RUNTIME_SPEC_INVALID', `Invalid stop signal "${signal}"`);
  const args = [...global({}), 'kill'];
  if (options.all === true) args.push('--all');
  return [...args, id, signal];
}

/** `crun delete`; `force` kills a container that is still running first. */
export function crunDeleteArgs(id: string, options: { force?: boolean } = {}): string[] {
  checkId(id);
  return [...global({}), 'delete', ...(options.force === true ? ['--force'] : []), id];
}

/** A program and its arguments, ready for spawn or exec.run. */
export interface Command {
  file: string;
  args: string[];
}

/**
 * Runs crun through `choom -n 0` so crun, and every process it starts (`crun create`'s container
 * process, `crun exec` processes: health probes, API exec), begins at OOM score adjustment 0
 * instead of inheriting init's -1000. crun skips `oomScoreAdj: 0` in config.json, and a write
 * to /proc/<pid>/oom_score_adj after spawning races the container's first process; choom sets
 * it before crun even runs. choom execs crun in place: no extra process stays behind. (`crun
 * run` starts under berth-monitor, which sets the adjustment itself: see monitorArgs.)
 */
export function withOomScoreReset(crunArgs: readonly string[]): Command {
  return { file: CHOOM_PATH, args: ['-n', '0', '--', CRUN_PATH, ...crunArgs] };
}

/** `crun create` (see crunCreateArgs) at OOM score adjustment 0: the container's process is forked here. */
export function crunCreateCommand(id: string, options: CreateOptions): Command {
  return withOomScoreReset(crunCreateArgs(id, options));
}

export interface ExecOptions {
  /** A process.json written by the shell (user, env, cwd, capabilities of the container). */
  processFile: string;
  tty?: boolean;
  detach?: boolean;
  pidFile?: string;
}

/** `crun exec` of a process description into a running container. */
export function crunExecArgs(id: string, options: ExecOptions): string[] {
  checkId(id);
  const args = [...global({}), 'exec', '--process', options.processFile];
  if (options.tty === true) args.push('--tty');
  if (options.detach === true) args.push('--detach');
  if (options.pidFile !== undefined) args.push('--pid-file', options.pidFile);
  return [...args, id];
}

/** `crun exec` (see crunExecArgs) at OOM score adjustment 0. */
export function crunExecCommand(id: string, options: ExecOptions): Command {
  return withOomScoreReset(crunExecArgs(id, options));
}

export interface OverlayMount {
  /** `mount` arguments. */
  args: string[];
  /** Run mount here: lowerdirs are relative to it, which keeps the option string short. */
  cwd: string;
}

/**
 * The kernel copies mount options into one page; lowerdir strings of many layers under long
 * paths overflow it, so layers are named relative to their common parent (Docker's `l/`
 * trick, without the symlinks: berth's layer directories already share a parent).
 */
export const MOUNT_OPTIONS_MAX = 4095;

/**
 * Mounts a container root: `layerDirs` bottom first (each containing `root/`), a private
 * upper and work directory. Throws when the options would not fit in a page.
 */
export function overlayMountArgs(layersDir: string, layerDirs: readonly string[], upperDir: string, workDir: string, target: string, rootDirName = 'root'): OverlayMount {
  if (layerDirs.length === 0) throw new BerthError('RUNTIME_SPEC_INVALID', 'An overlay root needs at least one layer');
  const parent = layersDir.endsWith('/') ? layersDir.slice(0, -1) : layersDir;
  const lower = [...layerDirs].reverse().map((dir) => {
    if (!dir.startsWith(`${parent}/`) || dir.slice(parent.length + 1).includes('/')) {
      throw new BerthError('RUNTIME_SPEC_INVALID', `Layer directory ${dir} is not directly inside ${parent}`);
    }
    const name = dir.slice(parent.length + 1);
    // ':' separates lowerdirs and ',' options; layer names are digests and never contain them.
    if (/[:,\\]/.test(name)) throw new BerthError('RUNTIME_SPEC_INVALID', `Layer directory name ${name} cannot appear in overlay options`);
    return `${name}/${rootDirName}`;
  });
  for (const path of [upperDir, workDir]) {
    if (/[:,\\]/.test(path)) throw new BerthError('RUNTIME_SPEC_INVALID', `Path ${path} cannot appear in overlay options`);
  }
  // index=off, xino=off: no inode index to keep consistent across layer sharing.
  // redirect_dir=nofollow, metacopy=off: set explicitly, because a kernel built with
  // OVERLAY_FS_REDIRECT_DIR, OVERLAY_FS_REDIRECT_ALWAYS_FOLLOW or OVERLAY_FS_METACOPY has other
  // defaults. Redirect xattrs are then neither created nor followed and no metadata-only copy-up
  // happens, so an overlay.redirect/overlay.metacopy xattr in a layer can never point a lookup
  // at a file outside it (renaming a lower directory gets EXDEV and tools copy it, as in Docker).
  const options = `lowerdir=${lower.join(':')},upperdir=${upperDir},workdir=${workDir},index=off,xino=off,redirect_dir=nofollow,metacopy=off`;
  if (options.length > MOUNT_OPTIONS_MAX) {
    throw new BerthError('RUNTIME_SPEC_INVALID', `Overlay options for ${layerDirs.length} layers are ${options.length} bytes, more than a page (${MOUNT_OPTIONS_MAX})`);
  }
  return { args: ['-t', 'overlay', '-o', options, '--', 'overlay', target], cwd: parent };
}
