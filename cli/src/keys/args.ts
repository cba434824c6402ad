/**
 * Argument parsing for `berth keys FAMILY …`, pure: one entry per family of keys in a table
 * (update-signing: the ed25519 pair that signs update bundles; api: the management API's CA,
 * client and server certificates; fleet: the coordinator's CA, host, admin and server
 * certificates), each with its own parser and help. A family not in the table is a usage error
 * listing those that are.
 */
import { takeValue, usage, wholeNumber } from '../argv.ts';
import { parseFleetKeysArgs, type FleetKeysCommand } from '../fleet-args.ts';

/** `berth keys update-signing generate --out DIR`. */
export interface UpdateSigningKeysCommand {
  kind: 'keys-update-signing';
  out: string;
}

/** `berth keys api ca|client|server …`. */
export interface ApiKeysCommand {
  kind: 'keys-api';
  role: 'ca' | 'client' | 'server';
  outDir: string;
  /** Common name; defaults: "berth API CA", "client", the first --host. */
  name?: string;
  /** Directory holding ca.crt and ca.key (default: --out). */
  caDir?: string;
  /** DNS names and addresses of a server certificate. */
  hosts: string[];
  days?: number;
}

export type KeysCommand = UpdateSigningKeysCommand | ApiKeysCommand | FleetKeysCommand;

/** One family of keys: its name after `berth keys`, what it makes, its help lines and its parser. */
export interface KeyFamily {
  name: string;
  summary: string;
  help: string;
  parse(argv: readonly string[]): KeysCommand;
}

/** Every family of keys `berth keys` makes. */
export const KEY_FAMILIES: readonly KeyFamily[] = [
  {
    name: 'update-signing',
    summary: 'the ed25519 key pair that signs update bundles',
    help: `  berth keys update-signing generate --out DIR
      Make the ed25519 key pair for update bundles: DIR/berth-signing.key (0600, keep it off
      the hosts) and DIR/berth-signing.pub.
`,
    parse: parseUpdateSigningKeysArgs,
  },
  {
    name: 'api',
    summary: "the management API's CA, client and server certificates",
    help: `  berth keys api ca [--out DIR] [--name CN] [--days N]
  berth keys api client [--out DIR] [--ca-dir DIR] [--name NAME] [--days N]
  berth keys api server --host NAME_OR_IP [--host ...] [--out DIR] [--ca-dir DIR] [--days N]
      Make the API's CA (DIR/ca.crt, ca.key: put ca.crt in the machine config as api.client_ca),
      a client certificate (DIR/NAME.crt, NAME.key) or a server certificate (DIR/server.crt,
      server.key: api.server_cert/api.server_key) signed by the CA in --ca-dir (default: --out).
      ECDSA P-256, made with node:crypto; existing files are never overwritten. DIR defaults to '.'.
`,
    parse: parseApiKeysArgs,
  },
  {
    name: 'fleet',
    summary: "the fleet coordinator's CA, host, admin and server certificates",
    help: `  berth keys fleet ca | host ID | admin NAME | server --host NAME_OR_IP… [--out DIR] [--ca-dir DIR] [--days N]
      Make the fleet CA, a host certificate (CN host:ID: may lock, release and report as ID only),
      an admin certificate (CN admin:NAME) or the coordinator's server certificate.
`,
    parse: parseFleetKeysArgs,
  },
];

/** The help of every family, in table order. */
export const KEYS_HELP = KEY_FAMILIES.map((family) => family.help).join('');

/** What the commands of the single-family `berth keys` were, for the error that names their new spelling. */
const FORMER_COMMANDS: Readonly<Record<string, string>> = { generate: 'update-signing generate', ca: 'api ca', client: 'api client', server: 'api server' };

/** Parses the arguments after `berth keys`: the family, then its own arguments. */
export function parseKeysArgs(argv: readonly string[]): KeysCommand {
  const [name, ...rest] = argv;
  const family = KEY_FAMILIES.find((f) => f.name === name);
  if (family !== undefined) return family.parse(rest);
  const families = KEY_FAMILIES.map((f) => `${f.name} (${f.summary})`).join(', ');
  if (name === undefined) throw usage(`berth keys needs a family of keys: ${families}`);
  const former = FORMER_COMMANDS[name];
  if (former !== undefined) throw usage(`'berth keys ${name}' is now 'berth keys ${former}'`);
  throw usage(`Unknown family of keys '${name}': expected ${families}`);
}

/** Parses the arguments after `berth keys update-signing`. */
export function parseUpdateSigningKeysArgs(argv: readonly string[]): UpdateSigningKeysCommand {
  const [what, ...rest] = argv;
  if (what !== 'generate') throw usage(what === undefined ? 'berth keys update-signing needs what to do: generate' : `Unknown update-signing command '${what}': expected generate`);
  let out: string | undefined;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    if (arg === '--out' || arg.startsWith('--out=')) [out, i] = takeValue(rest, i, '--out');
    else throw usage(`Unknown argument '${arg}' for berth keys update-signing generate`);
  }
  if (out === undefined) throw usage('berth keys update-signing generate needs --out DIR');
  return { kind: 'keys-update-signing', out };
}

/** Parses the arguments after `berth keys api`. */
export function parseApiKeysArgs(argv: readonly string[]): ApiKeysCommand {
  const [role, ...rest] = argv;
  if (role !== 'ca' && role !== 'client' && role !== 'server') {
    throw usage(role === undefined ? 'berth keys api needs what to make: ca, client or server' : `Unknown API key '${role}': expected ca, client or server`);
  }
  const command: ApiKeysCommand = { kind: 'keys-api', role, outDir: '.', hosts: [] };
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    const flag = arg.includes('=') && arg.startsWith('--') ? arg.slice(0, arg.indexOf('=')) : arg;
    let value: string;
    switch (flag) {
      case '--out':
        [value, i] = takeValue(rest, i, flag);
        command.outDir = value;
        break;
      case '--name':
        [value, i] = takeValue(rest, i, flag);
        if (!/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/.test(value)) throw usage(`--name '${value}': use letters, digits, spaces and . _ @ - (at most 64)`);
        command.name = value;
        break;
      case '--ca-dir':
        if (role === 'ca') throw usage('--ca-dir is for client and server certificates');
        [value, i] = takeValue(rest, i, flag);
        command.caDir = value;
        break;
      case '--host':
        if (role !== 'server') throw usage('--host is for server certificates (berth keys api server)');
        [value, i] = takeValue(rest, i, flag);
        command.hosts.push(value);
        break;
      case '--days':
        [value, i] = takeValue(rest, i, flag);
        command.days = wholeNumber('--days', value, 1);
        break;
      default:
        throw usage(arg.startsWith('-') ? `Unknown option '${arg}' for berth keys api ${role}` : `Unexpected argument '${arg}' for berth keys api ${role}`);
    }
  }
  if (role === 'server' && command.hosts.length === 0) throw usage('berth keys api server needs --host with the name or address clients connect to');
  if (role === 'client' && command.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(command.name)) {
    throw usage(`--name '${command.name}' names the files too: use letters, digits and . _ @ -`);
  }
  return command;
}
