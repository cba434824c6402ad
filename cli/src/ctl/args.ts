/**
 * Argument parsing for `berth ctl`, pure: argv in, a command or a CLI_USAGE
 * error that says what is accepted. Options may come before or after the subcommand.
 */
import { takeValue, usage, wholeNumber } from '../argv.ts';
import { PATHS } from '../../../lib/layout.ts';
import { CONTAINER_COMMANDS, CONTAINER_EXIT, CONTAINER_HELP, parseContainerAction, type ContainerAction } from './containers.ts';
import { CONFIG_UPDATE_COMMANDS, CONFIG_UPDATE_HELP, parseConfigUpdateAction, type ConfigUpdateAction } from './config-update.ts';

/** Where `berth ctl` sends its requests. */
export type CtlTarget =
  | { kind: 'unix'; socketPath: string }
  | {
      kind: 'https';
      host: string;
      port: number;
      certFile: string;
      keyFile: string;
      /** The CA that issued the server's certificate (`berth keys api server`). */
      caFile?: string;
      /** Or the SHA-256 fingerprint of the server's certificate (one made at first boot). */
      serverSha256?: string;
    };

export type CtlAction =
  | { op: 'status' }
  | { op: 'logs'; follow: boolean; tail?: number }
  | { op: 'config-get' }
  | { op: 'config-validate'; file: string }
  | { op: 'reboot' }
  | { op: 'poweroff' }
  | ContainerAction
  | ConfigUpdateAction;

export interface CtlCommand {
  kind: 'ctl';
  target: CtlTarget;
  json: boolean;
  action: CtlAction;
}

export const DEFAULT_API_PORT = 7443;
export const DEFAULT_HOST = `unix://${PATHS.apiSocket}`;

export const CTL_HELP = `  berth ctl [--host unix://PATH | https://ADDR[:PORT]] [--cert FILE --key FILE (--ca FILE | --server-sha256 HEX)] COMMAND [--json]
      Talk to a berth host's management API: by default its Unix socket ${PATHS.apiSocket} (run as
      root on the host), or over mutual TLS (port ${DEFAULT_API_PORT}) with a client certificate from
      'berth keys api client'. The server is checked against --ca (a certificate from 'berth keys api server')
      or --server-sha256 (the fingerprint init logs as msg="API server certificate" sha256=...).
      Commands:
        status                     version, slot, uptime, CPU, memory, disks, interfaces
        logs [-f|--follow] [--tail N]   the host log (logfmt; --json: one JSON object per line)
${CONTAINER_HELP}        config get                 the machine config in force
        config validate FILE       check a machine config; every problem with its line
${CONFIG_UPDATE_HELP}        reboot | poweroff          orderly reboot or power off
      Exit codes: 0 ok, 1 the request failed (or the config is invalid), 2 usage, 3 cannot connect,
      ${CONTAINER_EXIT.notFound} no such container or image, ${CONTAINER_EXIT.conflict} refused for its state (not running, image in use);
      exec exits with the command's code, or ${CONTAINER_EXIT.execFailed} when berth ctl itself failed.
`;

/** Parses `--host`: unix:///path or https://addr[:port]. */
export function parseHostUrl(text: string): { kind: 'unix'; socketPath: string } | { kind: 'https'; host: string; port: number } {
  if (text.startsWith('unix://')) {
    const socketPath = text.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw usage(`--host ${text}: a Unix socket needs an absolute path, like unix://${PATHS.apiSocket}`);
    return { kind: 'unix', socketPath };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`--host '${text}' is not unix:///path or https://ADDRESS[:PORT]`);
  }
  if (url.protocol !== 'https:') throw usage(`--host '${text}': the API is served over https:// (mutual TLS) or a unix:// socket, not ${url.protocol}`);
  if (url.pathname !== '/' || url.search !== '' || url.username !== '') throw usage(`--host '${text}': give only the address and port, like https://192.0.2.10:${DEFAULT_API_PORT}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { kind: 'https', host, port: url.port === '' ? DEFAULT_API_PORT : Number(url.port) };
}

const CTL_COMMANDS = `status, logs, config get, config validate FILE, ${CONFIG_UPDATE_COMMANDS}, reboot, poweroff, ${CONTAINER_COMMANDS}`;

/** Parses the arguments after `berth ctl`. */
export function parseCtlArgs(argv: readonly string[]): CtlCommand {
  let hostText: string | undefined;
  let certFile: string | undefined;
  let keyFile: string | undefined;
  let caFile: string | undefined;
  let serverSha256: string | undefined;
  let json = false;
  let follow = false;
  let tail: number | undefined;
  let afterDashes: string[] | undefined;
  let timeout: string | undefined;
  let wait = false;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const flag = arg.includes('=') && arg.startsWith('--') ? arg.slice(0, arg.indexOf('=')) : arg;
    let value: string;
    switch (flag) {
      case '--host':
        [value, i] = takeValue(argv, i, flag);
        hostText = value;
        break;
      case '--cert':
        [value, i] = takeValue(argv, i, flag);
        certFile = value;
        break;
      case '--key':
        [value, i] = takeValue(argv, i, flag);
        keyFile = value;
        break;
      case '--ca':
        [value, i] = takeValue(argv, i, flag);
        caFile = value;
        break;
      case '--server-sha256':
        [value, i] = takeValue(argv, i, flag);
        serverSha256 = value.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(serverSha256)) throw usage(`--server-sha256 wants the 64 hex digits of a SHA-256 fingerprint, not '${value}'`);
        break;
      case '--json':
        json = true;
        break;
      case '-f':
      case '--follow':
        follow = true;
        break;
      case '--tail':
        [value, i] = takeValue(argv, i, flag);
        tail = wholeNumber('--tail', value, 0);
        break;
      case '--timeout':
        [value, i] = takeValue(argv, i, flag);
        timeout = value;
        break;
      case '--wait':
        wait = true;
        break;
      case '--':
        // Everything after is exec's command, options included.
        afterDashes = argv.slice(i + 1);
        i = argv.length;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw usage(`Unknown option '${arg}' for berth ctl`);
        words.push(arg);
    }
  }
  const [first, second, ...extra] = words;
  let action: CtlAction;
  const noMore = (used: number): void => {
    const rest = words.slice(used);
    if (rest.length > 0) throw usage(`Unexpected argument '${rest[0]}' after berth ctl ${words.slice(0, used).join(' ')}`);
  };
  const containerAction = parseContainerAction(words, { follow, tail, afterDashes });
  const configUpdateAction = containerAction === undefined ? parseConfigUpdateAction(words, { timeout, wait }) : undefined;
  if (containerAction !== undefined) action = containerAction;
  else if (configUpdateAction !== undefined) action = configUpdateAction;
  else if (afterDashes !== undefined) throw usage(`'--' goes with berth ctl exec NAME -- CMD...`);
  else switch (first) {
    case undefined:
      throw usage(`berth ctl needs a command: ${CTL_COMMANDS}`);
    case 'status':
    case 'reboot':
    case 'poweroff':
      noMore(1);
      action = { op: first };
      break;
    case 'logs':
      noMore(1);
      action = { op: 'logs', follow, ...(tail === undefined ? {} : { tail }) };
      break;
    case 'config':
      if (second === 'get') {
        noMore(2);
        action = { op: 'config-get' };
      } else if (second === 'validate') {
        const [file] = extra;
        if (file === undefined) throw usage('berth ctl config validate needs a FILE (a machine config, YAML)');
        noMore(3);
        action = { op: 'config-validate', file };
      } else throw usage(second === undefined ? 'berth ctl config needs get, validate FILE, plan FILE, apply FILE, try FILE or confirm' : `Unknown config command '${second}': expected get, validate FILE, plan FILE, apply FILE, try FILE or confirm`);
      break;
    default:
      throw usage(`Unknown ctl command '${first}': expected one of ${CTL_COMMANDS}`);
  }
  if (action.op !== 'logs' && action.op !== 'container-logs' && (follow || tail !== undefined)) throw usage(`${follow ? '--follow' : '--tail'} goes with berth ctl logs`);
  const parsed = parseHostUrl(hostText ?? DEFAULT_HOST);
  let target: CtlTarget;
  if (parsed.kind === 'unix') {
    if (certFile !== undefined || keyFile !== undefined || caFile !== undefined || serverSha256 !== undefined) {
      throw usage('--cert, --key, --ca and --server-sha256 are for https:// hosts; the Unix socket needs none');
    }
    target = parsed;
  } else {
    if (certFile === undefined || keyFile === undefined) {
      throw usage(`${hostText ?? ''} needs a client certificate: --cert FILE --key FILE (make them with 'berth keys api client')`);
    }
    if ((caFile === undefined) === (serverSha256 === undefined)) {
      throw usage('Give one way to check the server: --ca FILE (the CA of its certificate) or --server-sha256 HEX (its fingerprint)');
    }
    target = {
      ...parsed,
      certFile,
      keyFile,
      ...(caFile === undefined ? {} : { caFile }),
      ...(serverSha256 === undefined ? {} : { serverSha256 }),
    };
  }
  return { kind: 'ctl', target, json, action };
}
