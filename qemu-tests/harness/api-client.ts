/**
 * The host side of the management API for the VM cases: client certificates made as the real
 * `berth keys api` makes them (through the CLI's front door, cli/src/index.ts), the machine
 * config's `api:` section that trusts their CA, and the real `berth ctl` CLI run against a guest
 * through a hostfwd. Effects: writes the keys into the given directory, runs bin/berth.js as a
 * child process.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeApiClientKeys, type ApiClientKeys } from '../../cli/src/index.ts';
import { REPO_ROOT } from '../../vm/src/index.ts';

const run = promisify(execFile);

/** The port the guest's API listens on (the `api:` section below); hostfwd a free host port to it. */
export const GUEST_API_PORT = 7443;

/** A CA and one client certificate signed by it, as `berth keys api` writes them. */
export type ClientKeys = ApiClientKeys;

/** Makes a CA and a client certificate named `clientName` in `dir`, as `berth keys api ca` and `berth keys api client` do. */
export function makeClientKeys(dir: string, clientName = 'admin'): Promise<ClientKeys> {
  return makeApiClientKeys(dir, clientName, new Date());
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
