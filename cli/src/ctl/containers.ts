/**
 * `berth ctl` commands for containers and images: ps, inspect, logs NAME, start, stop, restart,
 * exec, images, pull, rmi, prune. Parsing is pure (words in, an action or a CLI_USAGE error);
 * running goes through the ApiClient and CtlIo given (no effects of its own).
 */
import { API_ROUTES, routeRequest, type ContainerActionAnswer, type ContainerList, type ExecAnswer, type ImageList } from '../../../lib/api/index.ts';
import { BerthError, codeFromWire } from '../../../lib/errors.ts';
import {
  formatContainers,
  formatImages,
  formatInspect,
  formatPullBar,
  formatPullLine,
  formatPulled,
  formatRemoval,
  PullTracker,
  type ContainerDetailView,
  type ImageView,
  type PullProgressView,
  type RemovalView,
} from './container-format.ts';
import { usage } from '../argv.ts';

export type ContainerAction =
  | { op: 'ps' }
  | { op: 'inspect'; name: string }
  | { op: 'container-logs'; name: string; follow: boolean; tail?: number }
  | { op: 'start' | 'stop' | 'restart'; name: string }
  | { op: 'exec'; name: string; argv: string[] }
  | { op: 'images' }
  | { op: 'pull'; reference: string }
  | { op: 'rmi'; reference: string }
  | { op: 'prune' };

/** The container and image commands, for the usage messages. */
export const CONTAINER_COMMANDS = 'ps, inspect NAME, logs NAME, start|stop|restart NAME, exec NAME -- CMD..., images, pull REF, rmi REF, prune';

/** The help text's lines for these commands (part of CTL_HELP). */
export const CONTAINER_HELP = `        ps | containers            the containers: state, health, restarts, uptime, ports, address
        inspect NAME               one container: state, pid, start time, network, its config as declared
        logs NAME [-f] [--tail N]  a container's output (stdout to stdout, stderr to stderr; --json: the
                                   json-file records). 'logs' without a NAME is the host log
        start | stop | restart NAME   start a stopped container; stop one for good (until start or reboot)
        exec NAME -- CMD [ARG...]  run a command in a running container (no terminal, no stdin); prints
                                   its output and exits with its exit code (killed after 60 s)
        images                     the images held: reference, digest, size, created, used by
        pull REF                   pull from a registry (a progress bar on a terminal, a line per layer
                                   otherwise, the progress events as NDJSON with --json)
        rmi REF                    remove an image no container uses, with the layers only it needed
        prune                      remove pulled images no container uses and every unneeded layer
`;

/** Exit codes of the container and image commands beyond 0, 1, 2 and 3. */
export const CONTAINER_EXIT = {
  /** The named container or image does not exist on the host. */
  notFound: 4,
  /** The host refused because of the object's state: the container is not running, the image is in use. */
  conflict: 5,
  /** exec: berth ctl itself failed (the command's own codes are passed through), as docker exec does. */
  execFailed: 125,
} as const;

/** What args.ts found besides the words: -f, --tail and the words after `--`. */
export interface ContainerArgExtras {
  follow: boolean;
  tail: number | undefined;
  /** The words after `--` (exec's command), undefined without `--`. */
  afterDashes: string[] | undefined;
}

/**
 * The action for `words` (the command and its arguments, options removed), or undefined when
 * the first word is not a container or image command (args.ts then tries its own).
 */
export function parseContainerAction(words: readonly string[], extras: ContainerArgExtras): ContainerAction | undefined {
  const [command, ...rest] = words;
  const one = (what: string): string => {
    const [value, extra] = rest;
    if (value === undefined) throw usage(`berth ctl ${command} needs ${what}`);
    if (extra !== undefined) throw usage(`Unexpected argument '${extra}' after berth ctl ${command} ${value}`);
    return value;
  };
  const none = (): void => {
    if (rest[0] !== undefined) throw usage(`Unexpected argument '${rest[0]}' after berth ctl ${command}`);
  };
  let action: ContainerAction;
  switch (command) {
    case 'ps':
    case 'containers':
      none();
      action = { op: 'ps' };
      break;
    case 'inspect':
      action = { op: 'inspect', name: one('a container NAME (berth ctl ps lists them)') };
      break;
    case 'logs': {
      if (rest.length === 0) return undefined; // the host log
      action = { op: 'container-logs', name: one('a container NAME'), follow: extras.follow, ...(extras.tail === undefined ? {} : { tail: extras.tail }) };
      break;
    }
    case 'start':
    case 'stop':
    case 'restart':
      action = { op: command, name: one('a container NAME (berth ctl ps lists them)') };
      break;
    case 'exec': {
      const name = rest[0];
      if (name === undefined) throw usage('berth ctl exec needs a container NAME, then -- and the command: exec web -- ls -l /');
      if (rest.length > 1) throw usage(`Put the command after --: berth ctl exec ${name} -- ${rest.slice(1).join(' ')}`);
      const argv = extras.afterDashes ?? [];
      if (argv.length === 0) throw usage(`berth ctl exec ${name} needs the command after --: exec ${name} -- CMD [ARG...]`);
      action = { op: 'exec', name, argv };
      break;
    }
    case 'images':
      none();
      action = { op: 'images' };
      break;
    case 'pull':
      action = { op: 'pull', reference: one('an image reference, like registry.example:5000/app:1.0') };
      break;
    case 'rmi':
      action = { op: 'rmi', reference: one('an image reference (berth ctl images lists them)') };
      break;
    case 'prune':
      none();
      action = { op: 'prune' };
      break;
    default:
      return undefined;
  }
  if (action.op !== 'exec' && extras.afterDashes !== undefined) throw usage(`'--' goes with berth ctl exec NAME -- CMD...`);
  if (action.op !== 'container-logs' && (extras.follow || extras.tail !== undefined)) throw usage(`${extras.follow ? '--follow' : '--tail'} goes with berth ctl logs`);
  return action;
}

/** Whether an action is one of these commands. */
export function isContainerAction(action: { op: string }): action is ContainerAction {
  return ['ps', 'inspect', 'container-logs', 'start', 'stop', 'restart', 'exec', 'images', 'pull', 'rmi', 'prune'].includes(action.op);
}

/** Where output goes: `out`/`err`, whether stdout is a terminal, and the time for ages. */
export interface ContainerIo {
  out(text: string): void;
  err(text: string): void;
  isTty?: boolean;
  now?: () => Date;
}

/** The helpers of run.ts these commands share (passed in, so the modules do not import each other). */
export interface CtlRequests {
  json(method: string, path: string, expect: number, body?: { text: string; contentType: string }): Promise<unknown>;
  /** Streams a 200 answer line by line; a non-200 answer becomes the API's error. */
  lines(method: string, path: string, onLine: (line: string) => void, body?: { text: string; contentType: string }): Promise<void>;
}

/** Splits streamed text into lines, holding back a partial last line between chunks. */
export function createLineSplitter(onLine: (line: string) => void): { chunk(text: string): void; end(): void } {
  let rest = '';
  return {
    chunk(text) {
      const parts = (rest + text).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) if (part !== '') onLine(part);
    },
    end() {
      if (rest !== '') onLine(rest);
      rest = '';
    },
  };
}

/** Runs a container or image command; returns the exit code. API failures are thrown (run.ts reports them). */
export async function runContainerAction(action: ContainerAction, asJson: boolean, requests: CtlRequests, io: ContainerIo): Promise<number> {
  const now = io.now ?? (() => new Date());
  const print = (value: unknown): void => io.out(`${JSON.stringify(value, null, 2)}\n`);
  switch (action.op) {
    case 'ps': {
      const { containers } = (await requests.json(...routeRequest(API_ROUTES.listContainers), 200)) as ContainerList;
      if (asJson) print(containers);
      else io.out(formatContainers(containers, now()));
      return 0;
    }
    case 'inspect': {
      const detail = (await requests.json(...routeRequest(API_ROUTES.inspectContainer, { name: action.name }), 200)) as ContainerDetailView;
      if (asJson) print(detail);
      else io.out(formatInspect(detail, now()));
      return 0;
    }
    case 'container-logs': {
      const query = { tail: action.tail, follow: action.follow ? '1' : undefined };
      await requests.lines(...routeRequest(API_ROUTES.getContainerLogs, { name: action.name }, query), (line) => {
        if (asJson) {
          io.out(`${line}\n`);
          return;
        }
        try {
          const record = JSON.parse(line) as { log?: string; stream?: string };
          if (record.stream === 'stderr') io.err(record.log ?? '');
          else io.out(record.log ?? '');
        } catch {
          io.out(`${line}\n`);
        }
      });
      return 0;
    }
    case 'start':
    case 'stop':
    case 'restart': {
      const result = (await requests.json(...routeRequest(API_ROUTES[`${action.op}Container`], { name: action.name }), 200)) as ContainerActionAnswer;
      if (asJson) print(result);
      else if (!result.changed) io.out(`${result.name} was already ${action.op === 'stop' ? 'stopped' : 'running'} (${result.state})\n`);
      else io.out(`${action.op === 'stop' ? 'Stopped' : action.op === 'start' ? 'Started' : 'Restarted'} ${result.name} (${result.state})\n`);
      return 0;
    }
    case 'exec': {
      const result = (await requests.json(...routeRequest(API_ROUTES.execContainer, { name: action.name }), 200, { text: JSON.stringify({ argv: action.argv }), contentType: 'application/json' })) as ExecAnswer;
      if (asJson) print(result);
      else {
        io.out(result.stdout);
        io.err(result.stderr);
      }
      return result.exit_code;
    }
    case 'images': {
      const { images } = (await requests.json(...routeRequest(API_ROUTES.listImages), 200)) as ImageList;
      if (asJson) print(images);
      else io.out(formatImages(images));
      return 0;
    }
    case 'pull':
      return pull(action.reference, asJson, requests, io);
    case 'rmi': {
      const result = (await requests.json(...routeRequest(API_ROUTES.removeImage, { reference: action.reference }), 200)) as RemovalView;
      if (asJson) print(result);
      else io.out(formatRemoval(`Removed ${action.reference}`, result));
      return 0;
    }
    case 'prune': {
      const result = (await requests.json(...routeRequest(API_ROUTES.pruneImages), 200)) as RemovalView;
      if (asJson) print(result);
      else io.out(formatRemoval('Pruned', result));
      return 0;
    }
  }
}

async function pull(reference: string, asJson: boolean, requests: CtlRequests, io: ContainerIo): Promise<number> {
  const tracker = new PullTracker();
  let drawn = false;
  let outcome: { image: ImageView } | { error: { code: string; message: string } } | undefined;
  await requests.lines(...routeRequest(API_ROUTES.pullImage), (line) => {
    if (asJson) io.out(`${line}\n`);
    let event: { event?: string; image?: ImageView; error?: { code: string; message: string } };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    if (event.event === 'pulled' && event.image) outcome = { image: event.image };
    else if (event.event === 'error' && event.error) outcome = { error: event.error };
    else if (event.event === 'progress' && !asJson) {
      const progress = event as unknown as PullProgressView;
      const changed = tracker.record(progress);
      if (io.isTty === true) {
        // Redraw one line in place: carriage return, clear the line.
        io.out(`\r\x1b[2K${formatPullBar(reference, tracker)}`);
        drawn = true;
      } else if (changed) io.out(formatPullLine(progress));
    }
  }, { text: JSON.stringify({ reference }), contentType: 'application/json' });
  if (drawn) io.out('\n');
  if (outcome === undefined) throw new BerthError('CTL_STREAM_ENDED', `The pull of ${reference} ended without a result; berth ctl images shows whether it arrived`);
  if ('error' in outcome) throw new BerthError(codeFromWire(outcome.error.code), outcome.error.message);
  if (!asJson) io.out(formatPulled(outcome.image));
  return 0;
}
