/**
 * Which machine config this boot uses, as pure decisions. The sources, in order:
 *   1. the kernel command line `berth.config=<http(s) URL>` or `berth.config=fw_cfg`: an explicit
 *      source, the only one looked at when given (as Ignition's and Talos' platform configs);
 *   2. QEMU fw_cfg `opt/berth/config`;
 *   3. a config drive (vfat or iso9660 labelled CIDATA/cidata: berth.yaml, or NoCloud user-data);
 *   4. the last good copy on /var; 5. the built-in defaults.
 * The first of 1-3 that is present is the chosen source; the others are not read. When the chosen
 * source cannot be read or its text is invalid, every problem is reported and the machine keeps its
 * last good config (never a lower source, which would be a config nobody meant for this boot).
 * A valid chosen text becomes the new last good copy — once: a source that hands over the same
 * text it handed over before (fw_cfg and config drives stay attached, a URL serves the same file)
 * does not undo changes applied since through the API; the last good copy stays in force (as a
 * Talos machine keeps its applied config across reboots). Pure: texts come in, the choice goes out.
 */
import { createHash } from 'node:crypto';
import { parseKernelCommandLine } from '../../../lib/boot-entry.ts';
import { CMDLINE_KEYS, FW_CFG_CONFIG_NAME } from '../../../lib/layout.ts';
import type { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { DEFAULT_MACHINE_CONFIG, configProblemLines, warningLines, type MachineConfig } from './machine-config.ts';

/** A source that hands over a new config (the last good copy and the defaults are not sources). */
export type ConfigSourceKind = 'url' | 'fw_cfg' | 'config-drive';

/** Where the config in force came from; logged as `origin=` and returned by the API. */
export type ConfigOrigin = ConfigSourceKind | 'saved' | 'defaults';

/** What `berth.config=` on the kernel command line asks for. */
export type ConfigCmdline =
  | { kind: 'none' }
  | { kind: 'url'; url: string }
  | { kind: 'fw_cfg' }
  | { kind: 'invalid'; value: string; problem: string };

/** The value of `berth.config=` that names the fw_cfg item. */
export const CMDLINE_FW_CFG = 'fw_cfg';

/** How the fw_cfg source is named in logs and problem lines. */
export const FW_CFG_SOURCE = `fw_cfg:${FW_CFG_CONFIG_NAME}`;

/** Reads `berth.config=` from the kernel command line. */
export function parseConfigCmdline(cmdline: string): ConfigCmdline {
  const value = parseKernelCommandLine(cmdline).get(CMDLINE_KEYS.config);
  if (value === undefined) return { kind: 'none' };
  if (value === CMDLINE_FW_CFG) return { kind: 'fw_cfg' };
  const expected = `expected an http:// or https:// URL, or ${CMDLINE_FW_CFG}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { kind: 'invalid', value, problem: `${CMDLINE_KEYS.config}=${value}: ${expected}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'invalid', value, problem: `${CMDLINE_KEYS.config}=${value}: scheme ${url.protocol} is not supported, ${expected}` };
  }
  return { kind: 'url', url: url.href };
}

/** The sources to look for, in order; the first one present is the one read. */
export function configSourceOrder(cmdline: ConfigCmdline): ConfigSourceKind[] {
  switch (cmdline.kind) {
    case 'url':
      return ['url'];
    case 'fw_cfg':
      return ['fw_cfg'];
    case 'none':
      return ['fw_cfg', 'config-drive'];
    case 'invalid':
      // A typo in an explicit source must not silently hand the machine to another source.
      return [];
  }
}

/**
 * A URL as it may be logged: without user info and query, which often carry tokens
 * (`https://host/config.yaml?…`).
 */
export function urlForLog(href: string): string {
  try {
    const url = new URL(href);
    const hidden = url.search !== '' || url.username !== '' || url.password !== '';
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return hidden ? `${url.href}?…` : url.href;
  } catch {
    return href;
  }
}

/** What the shell got from the chosen source: its text, or why there is none. */
export type SourceReading =
  | { origin: ConfigSourceKind; source: string; text: string }
  | { origin: ConfigSourceKind; source: string; error: unknown };

export interface ConfigInputs {
  cmdline: ConfigCmdline;
  /** The first present source of configSourceOrder, read; undefined when none was present. */
  chosen?: SourceReading;
  /** Text of the last good copy on /var, undefined when there is none. */
  saved?: string;
  /** How the last good copy is named in messages (its path). */
  savedSource: string;
  /** provisionedDigest of the source text the machine last took over, undefined when none is recorded. */
  lastProvisioned?: string;
}

/** What identifies a source text already taken over (recorded beside the last good copy). */
export function provisionedDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export interface RejectedConfig {
  origin: ConfigSourceKind | 'saved' | 'cmdline';
  source: string;
  /** `source:line:col: path: message` lines, or one line saying why the source could not be read. */
  problems: string[];
  error: unknown;
}

export interface ConfigChoice {
  config: MachineConfig;
  origin: ConfigOrigin;
  source: string;
  warnings: string[];
  rejected: RejectedConfig[];
  /** Text to store as the last good copy (a valid chosen text that differs from it). */
  save?: string;
  /** provisionedDigest of a newly taken over source text, to record (with or after `save`). */
  provisioned?: string;
  /** Set when the chosen source handed over the text it was last taken over from, so the last good copy stays. */
  sourceUnchanged?: { origin: ConfigSourceKind; source: string };
}

/** lib/config's loader (a parameter so tests can count loads). */
export type MachineConfigLoader = typeof loadMachineConfig;

/** A loaded config with its warnings as printable lines. */
interface LoadedMachineConfig {
  config: MachineConfig;
  warnings: string[];
}

/** Chooses the config; never throws for a bad text or source (that is what `rejected` is for). */
export function chooseMachineConfig(inputs: ConfigInputs, loadConfig: MachineConfigLoader): ConfigChoice {
  const rejected: RejectedConfig[] = [];
  const attempt = (origin: RejectedConfig['origin'], text: string, source: string): LoadedMachineConfig | undefined => {
    try {
      const { config, warnings } = loadConfig(text, source);
      return { config, warnings: warningLines(source, warnings) };
    } catch (error) {
      rejected.push({ origin, source, problems: configProblemLines(error), error });
      return undefined;
    }
  };
  const { cmdline, chosen, saved } = inputs;
  if (cmdline.kind === 'invalid') {
    rejected.push({ origin: 'cmdline', source: 'kernel command line', problems: [cmdline.problem], error: new Error(cmdline.problem) });
  } else if (cmdline.kind === 'fw_cfg' && chosen === undefined) {
    const problem = `${CMDLINE_KEYS.config}=${CMDLINE_FW_CFG}: this machine has no fw_cfg item ${FW_CFG_CONFIG_NAME} (start QEMU with -fw_cfg name=${FW_CFG_CONFIG_NAME},file=<config>)`;
    rejected.push({ origin: 'fw_cfg', source: FW_CFG_SOURCE, problems: [problem], error: new Error(problem) });
  }
  // The last good copy is loaded at most once (its problems are reported once).
  let savedLoad: { loaded: LoadedMachineConfig | undefined } | undefined;
  const loadSaved = (): LoadedMachineConfig | undefined => {
    if (saved === undefined) return undefined;
    savedLoad ??= { loaded: attempt('saved', saved, inputs.savedSource) };
    return savedLoad.loaded;
  };
  if (chosen !== undefined && !('error' in chosen) && inputs.lastProvisioned === provisionedDigest(chosen.text)) {
    // Already taken over: the last good copy holds it, or what was applied on top of it since.
    const loaded = loadSaved();
    if (loaded) {
      const sourceUnchanged = { origin: chosen.origin, source: chosen.source };
      return { config: loaded.config, origin: 'saved', source: inputs.savedSource, warnings: loaded.warnings, rejected, sourceUnchanged };
    }
  }
  if (chosen !== undefined) {
    if ('error' in chosen) {
      rejected.push({ origin: chosen.origin, source: chosen.source, problems: configProblemLines(chosen.error), error: chosen.error });
    } else {
      const loaded = attempt(chosen.origin, chosen.text, chosen.source);
      if (loaded) {
        const choice: ConfigChoice = { config: loaded.config, origin: chosen.origin, source: chosen.source, warnings: loaded.warnings, rejected };
        if (chosen.text !== saved) choice.save = chosen.text;
        choice.provisioned = provisionedDigest(chosen.text);
        return choice;
      }
    }
  }
  {
    const loaded = loadSaved();
    if (loaded) return { config: loaded.config, origin: 'saved', source: inputs.savedSource, warnings: loaded.warnings, rejected };
  }
  return { config: DEFAULT_MACHINE_CONFIG, origin: 'defaults', source: 'defaults', warnings: [], rejected };
}
