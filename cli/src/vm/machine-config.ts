/**
 * The machine config a `berth vm` VM boots with: validated before QEMU starts (every problem
 * with its line), and given an `api:` section trusting a CA made for the VM when it has none,
 * so `berth ctl` and the test checks can reach the API through a forward. Pure.
 */
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { formatProblem } from '../../../lib/config/problems.ts';
import { parseYaml } from '../../../lib/config/yaml.ts';
import { listenPort } from '../../../lib/config/sections/api.ts';

/** The guest port of the API section berth vm adds. */
export const VM_API_PORT = 7443;

export interface PreparedConfig {
  /** The text to give the guest through fw_cfg. */
  text: string;
  /** The guest port the API listens on, when it listens on TCP. */
  apiPort?: number;
  /** True when the api section was added here (its CA is the one given). */
  addedApi: boolean;
  /** Warnings, each as `<source>:<line>:<col>: <path>: <message>`. */
  warnings: string[];
}

/** The `api:` section listening on VM_API_PORT and trusting `caPem`'s clients; ends with a newline. */
export function apiSection(caPem: string): string {
  const indented = caPem
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return `api:\n  listen: ["0.0.0.0:${VM_API_PORT}"]\n  client_ca: |\n${indented}\n`;
}

/**
 * Validates `text` (named `source` in messages; throws ConfigError with every problem) and, when
 * it has no top-level `api` key and `caPem` is given, appends an api section trusting that CA.
 */
export function prepareConfig(text: string, source: string, caPem?: string): PreparedConfig {
  const { config, warnings } = loadMachineConfig(text, source);
  const printed = warnings.map((w) => formatProblem(source, w));
  const document = parseYaml(text, source).value;
  const hasApi = typeof document === 'object' && document !== null && 'api' in document;
  const first = config.api.listen[0];
  if (first !== undefined) return { text, apiPort: listenPort(first), addedApi: false, warnings: printed };
  if (hasApi || caPem === undefined) return { text, addedApi: false, warnings: printed };
  const joined = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}# Added by berth vm: the API on TCP for berth ctl through a forward on 127.0.0.1.\n${apiSection(caPem)}`;
  // The added section must keep the config valid (it does unless the text is odd, e.g. a flow mapping).
  loadMachineConfig(joined, source);
  return { text: joined, apiPort: VM_API_PORT, addedApi: true, warnings: printed };
}

/** The `berth ctl` command line that reaches a VM's API through its forward. */
export function ctlCommandLine(hostPort: number, cert: string, key: string, serverSha256: string, command = 'status'): string {
  return `berth ctl --host https://127.0.0.1:${hostPort} --cert ${cert} --key ${key} --server-sha256 ${serverSha256} ${command}`;
}

/** The console line init logs with the API server certificate's fingerprint. */
export const SERVER_CERT_PATTERN = /msg="API server certificate" origin=\S+ sha256=([0-9a-f]{64})/;
