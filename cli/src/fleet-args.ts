/**
 * Argument parsing for `berth fleet …` (the fleet coordinator and its admin view) and
 * `berth keys fleet …` (the fleet CA, host, admin and server certificates), pure: argv in, a
 * command or a CLI_USAGE error naming the argument out.
 */
import { FLEETLOCK_GROUP_PATTERN } from '../../lib/fleet/protocol.ts';
import { nextValue, usage } from './argv.ts';

/** How `berth fleet` reaches a coordinator: URL, and the admin's certificate, key and the fleet CA (files). */
export interface FleetTarget {
  server: string;
  cert?: string;
  key?: string;
  ca?: string;
}

export interface FleetServeCommand {
  kind: 'fleet-serve';
  host: string;
  port: number;
  etcd: string[];
  cert?: string;
  key?: string;
  ca?: string;
  insecureHttp: boolean;
  prefix?: string;
  defaultSlots?: number;
  holderTimeoutS?: number;
  reportTtlS?: number;
  sweepIntervalS?: number;
  maxFailures?: number;
  maxFailureRatio?: number;
  minTakers?: number;
  allowAnonymousHosts: boolean;
}

export type FleetAdminAction =
  | { action: 'status' | 'hosts' | 'locks' | 'groups' }
  | { action: 'unlock'; id: string; group?: string }
  | { action: 'halt'; version: string; reason?: string }
  | { action: 'resume'; version: string }
  | { action: 'set-group'; group: string; slots: number };

export type FleetAdminCommand = { kind: 'fleet'; target: FleetTarget; json: boolean; silentAfterS: number } & FleetAdminAction;

export interface FleetKeysCommand {
  kind: 'keys-fleet';
  role: 'ca' | 'host' | 'admin' | 'server';
  /** Host id, admin name (CN `host:<id>` / `admin:<name>`). */
  name?: string;
  hosts: string[];
  outDir: string;
  caDir?: string;
  days?: number;
}

export const FLEET_HELP = `  berth fleet serve --etcd URL[,URL…] [--listen HOST:PORT] (--cert F --key F --ca F | --insecure-http)
        [--prefix /berth/fleet/] [--default-slots N] [--holder-timeout S] [--report-ttl S] [--sweep-interval S]
        [--max-failures N] [--max-failure-ratio R] [--min-takers N] [--allow-anonymous-hosts]
      Run a fleet coordinator replica (FleetLock + reports + automatic halts; state in etcd).
      Default listen 0.0.0.0:7480; --ca is the fleet CA host and admin certificates chain to.
  berth fleet status | hosts | locks | groups [--json] [--silent-after S]
  berth fleet unlock HOST [--group G] | halt VERSION [--reason TEXT] | resume VERSION | groups set GROUP SLOTS
      The fleet view and its admin actions, with --server URL --cert F --key F --ca F (an admin
      certificate from 'berth keys fleet admin'). BERTH_FLEET_SERVER, _CERT, _KEY, _CA set defaults.
`;

function take(argv: readonly string[], i: number, flag: string): [string, number] {
  const arg = argv[i] as string;
  if (arg.startsWith(`${flag}=`)) return [arg.slice(flag.length + 1), i];
  return [nextValue(argv, i, flag), i + 1];
}

function number(flag: string, text: string, min: number, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw usage(`${flag} '${text}': expected ${integer ? 'a whole number' : 'a number'} >= ${min}`);
  return n;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;

function flagOf(arg: string): string {
  return arg.startsWith('--') && arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
}

/** Parses `berth fleet serve …`. */
export function parseFleetServeArgs(argv: readonly string[]): FleetServeCommand {
  const c: FleetServeCommand = { kind: 'fleet-serve', host: '0.0.0.0', port: 7480, etcd: [], insecureHttp: false, allowAnonymousHosts: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = flagOf(argv[i] as string);
    let v: string;
    switch (flag) {
      case '--etcd':
        [v, i] = take(argv, i, flag);
        c.etcd.push(...v.split(',').filter((e) => e !== ''));
        break;
      case '--listen': {
        [v, i] = take(argv, i, flag);
        const m = /^(.*):(\d+)$/.exec(v);
        if (!m) throw usage(`--listen '${v}': expected HOST:PORT`);
        c.host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
        c.port = number('--listen port', m[2] as string, 0, true);
        break;
      }
      case '--cert':
      case '--key':
      case '--ca':
        [v, i] = take(argv, i, flag);
        c[flag.slice(2) as 'cert' | 'key' | 'ca'] = v;
        break;
      case '--prefix':
        [v, i] = take(argv, i, flag);
        c.prefix = v;
        break;
      case '--default-slots':
        [v, i] = take(argv, i, flag);
        c.defaultSlots = number(flag, v, 1, true);
        break;
      case '--holder-timeout':
      case '--report-ttl':
      case '--sweep-interval': {
        [v, i] = take(argv, i, flag);
        const s = number(flag, v, 0.001, false);
        if (flag === '--holder-timeout') c.holderTimeoutS = s;
        else if (flag === '--report-ttl') c.reportTtlS = s;
        else c.sweepIntervalS = s;
        break;
      }
      case '--max-failures':
        [v, i] = take(argv, i, flag);
        c.maxFailures = number(flag, v, 1, true);
        break;
      case '--max-failure-ratio':
        [v, i] = take(argv, i, flag);
        c.maxFailureRatio = number(flag, v, 0, false);
        break;
      case '--min-takers':
        [v, i] = take(argv, i, flag);
        c.minTakers = number(flag, v, 1, true);
        break;
      case '--insecure-http':
        c.insecureHttp = true;
        break;
      case '--allow-anonymous-hosts':
        c.allowAnonymousHosts = true;
        break;
      default:
        throw usage(`Unknown argument '${argv[i] as string}' for berth fleet serve`);
    }
  }
  if (c.etcd.length === 0) throw usage('berth fleet serve needs --etcd with the client URL of at least one etcd member');
  const tlsFiles = [c.cert, c.key, c.ca].filter((f) => f !== undefined).length;
  if (c.insecureHttp && tlsFiles > 0) throw usage('--insecure-http and --cert/--key/--ca exclude each other');
  if (!c.insecureHttp && tlsFiles !== 3) throw usage('berth fleet serve needs --cert, --key and --ca (mutual TLS), or --insecure-http for a loopback test');
  return c;
}

/** Parses `berth fleet …` (serve included); `env` gives BERTH_FLEET_* defaults. */
export function parseFleetArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): FleetServeCommand | FleetAdminCommand {
  const [sub, ...rest] = argv;
  if (sub === 'serve') return parseFleetServeArgs(rest);
  const target: FleetTarget = { server: env.BERTH_FLEET_SERVER ?? '' };
  if (env.BERTH_FLEET_CERT) target.cert = env.BERTH_FLEET_CERT;
  if (env.BERTH_FLEET_KEY) target.key = env.BERTH_FLEET_KEY;
  if (env.BERTH_FLEET_CA) target.ca = env.BERTH_FLEET_CA;
  let json = false;
  let silentAfterS = 600;
  const positional: string[] = [];
  const named: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    const flag = flagOf(arg);
    let v: string;
    if (flag === '--json') json = true;
    else if (flag === '--server' || flag === '--cert' || flag === '--key' || flag === '--ca') {
      [v, i] = take(rest, i, flag);
      target[flag.slice(2) as 'server' | 'cert' | 'key' | 'ca'] = v;
    } else if (flag === '--silent-after') {
      [v, i] = take(rest, i, flag);
      silentAfterS = number(flag, v, 0, false);
    } else if (flag === '--group' || flag === '--reason') {
      [v, i] = take(rest, i, flag);
      named[flag] = v;
    } else if (arg.startsWith('-')) throw usage(`Unknown option '${arg}' for berth fleet ${sub ?? ''}`);
    else positional.push(arg);
  }
  const one = (what: string): string => {
    if (positional.length !== 1) throw usage(`berth fleet ${sub ?? ''} takes one ${what}`);
    const v = positional[0] as string;
    if (!ID.test(v)) throw usage(`${what} '${v}': use letters, digits and . _ @ : - (at most 128)`);
    return v;
  };
  let action: FleetAdminAction;
  const allowed = (names: readonly string[]) => {
    for (const n of Object.keys(named)) if (!names.includes(n)) throw usage(`${n} is not an option of berth fleet ${sub ?? ''}`);
  };
  switch (sub) {
    case 'status':
    case 'hosts':
    case 'locks':
      allowed([]);
      if (positional.length > 0) throw usage(`berth fleet ${sub} takes no arguments`);
      action = { action: sub };
      break;
    case 'groups':
      allowed([]);
      if (positional.length === 0) action = { action: 'groups' };
      else {
        const [verb, group, slots] = positional;
        if (verb !== 'set' || group === undefined || slots === undefined || positional.length !== 3) throw usage('berth fleet groups set GROUP SLOTS');
        if (!FLEETLOCK_GROUP_PATTERN.test(group)) throw usage(`group '${group}' must match ^[a-zA-Z0-9.-]+$`);
        action = { action: 'set-group', group, slots: number('SLOTS', slots, 0, true) };
      }
      break;
    case 'unlock':
      allowed(['--group']);
      action = { action: 'unlock', id: one('HOST'), ...(named['--group'] !== undefined ? { group: named['--group'] } : {}) };
      break;
    case 'halt':
      allowed(['--reason']);
      action = { action: 'halt', version: one('VERSION'), ...(named['--reason'] !== undefined ? { reason: named['--reason'] } : {}) };
      break;
    case 'resume':
      allowed([]);
      action = { action: 'resume', version: one('VERSION') };
      break;
    default:
      throw usage(sub === undefined ? 'berth fleet needs a command: serve, status, hosts, locks, unlock, halt, resume, groups' : `Unknown fleet command '${sub}'`);
  }
  if (target.server === '') throw usage(`berth fleet ${sub} needs --server URL (or BERTH_FLEET_SERVER)`);
  if (target.server.startsWith('https:') && (target.cert === undefined || target.key === undefined || target.ca === undefined)) {
    throw usage(`berth fleet ${sub} over https needs --cert, --key (an admin certificate from 'berth keys fleet admin') and --ca`);
  }
  return { kind: 'fleet', target, json, silentAfterS, ...action };
}

/** Parses `berth keys fleet …`. */
export function parseFleetKeysArgs(argv: readonly string[]): FleetKeysCommand {
  const [role, ...rest] = argv;
  if (role !== 'ca' && role !== 'host' && role !== 'admin' && role !== 'server') {
    throw usage(role === undefined ? 'berth keys fleet needs what to make: ca, host ID, admin NAME or server' : `Unknown fleet key '${role}': expected ca, host, admin or server`);
  }
  const c: FleetKeysCommand = { kind: 'keys-fleet', role, hosts: [], outDir: '.' };
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    const flag = flagOf(arg);
    let v: string;
    if (flag === '--out') [c.outDir, i] = take(rest, i, flag);
    else if (flag === '--ca-dir' && role !== 'ca') [c.caDir, i] = take(rest, i, flag);
    else if (flag === '--host' && role === 'server') {
      [v, i] = take(rest, i, flag);
      c.hosts.push(v);
    } else if (flag === '--days') {
      [v, i] = take(rest, i, flag);
      c.days = number(flag, v, 1, true);
    } else if (!arg.startsWith('-') && (role === 'host' || role === 'admin') && c.name === undefined) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/.test(arg)) throw usage(`${role === 'host' ? 'ID' : 'NAME'} '${arg}' names the files too: use letters, digits and . _ @ - (at most 128)`);
      c.name = arg;
    } else throw usage(`Unexpected argument '${arg}' for berth keys fleet ${role}`);
  }
  if ((role === 'host' || role === 'admin') && c.name === undefined) throw usage(`berth keys fleet ${role} needs the ${role === 'host' ? "host's FleetLock id" : "admin's name"}`);
  if (role === 'server' && c.hosts.length === 0) throw usage('berth keys fleet server needs --host with the name or address hosts connect to');
  return c;
}
