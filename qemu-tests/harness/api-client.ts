/**
 * The host side of the management API for the VM cases: client certificates made with the
 * real `berth keys`, the machine config's `api:` section that trusts their CA, and the real
 * `berth ctl` CLI run against a guest through a hostfwd. Effects: writes the keys into the
 * given directory, runs bin/berth.js as a child process.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseKeysArgs } from '../../cli/src/ctl/args.ts';
import { runKeys } from '../../cli/src/ctl/keys.ts';
import { REPO_ROOT } from '../../vm/src/index.ts';

const run = promisify(execFile);

/** The port the guest's API listens on (the `api:` section below); hostfwd a free host port to it. */
export const GUEST_API_PORT = 7443;

/** A CA and one client certificate signed by it, as `berth keys` writes them. */
export interface ClientKeys {
  /** The CA certificate (PEM), for the machine config's `client_ca`. */
  caPem: string;
  /** Paths of the client certificate and key. */
  cert: string;
  key: string;
}

/** Makes a CA and a client certificate named `clientName` in `dir` with `berth keys ca` and `berth keys client`. */
export async function makeClientKeys(dir: string, clientName = 'admin'): Promise<ClientKeys> {
  const now = new Date();
  await runKeys(parseKeysArgs(['ca', '--out', dir]), now);
  await runKeys(parseKeysArgs(['client', '--out', dir, '--name', clientName]), now);
  return {
    caPem: await readFile(path.join(dir, 'ca.crt'), 'utf8'),
    cert: path.join(dir, `${clientName}.crt`),
    key: path.join(dir, `${clientName}.key`),
  };
}

/** The machine config's `api:` section: a TCP listener on GUEST_API_PORT that trusts `caPem`'s clients. Ends with a newline. */
export function apiConfigSection(caPem: string): string {
  const indented = caPem
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return `api:
  listen: ["0.0.0.0:${GUEST_API_PORT}"]
  client_ca: |
${indented}
`;
}

/** `berth ctl`'s connection options: the forwarded host port, the client certificate, the server pinned by its fingerprint. */
export function ctlConnection(hostPort: number, keys: Pick<ClientKeys, 'cert' | 'key'>, serverSha256: string): string[] {
  return ['--host', `https://127.0.0.1:${hostPort}`, '--cert', keys.cert, '--key', keys.key, '--server-sha256', serverSha256];
}

/** The node arguments that run `berth ctl args…` (for spawn, or a command line under script(1)); run them with cwd REPO_ROOT. */
export function ctlArgv(args: readonly string[]): string[] {
  return [path.join(REPO_ROOT, 'bin/berth.js'), 'ctl', ...args];
}

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as an operator does (not on a terminal: plain output); a non-zero exit is a result, not a throw (-1 when it did not exit). */
export async function runCtl(args: readonly string[], timeoutMs = 120_000): Promise<CtlResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ctlArgv(args), { cwd: REPO_ROOT, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
