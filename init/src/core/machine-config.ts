/**
 * init's one door to the machine config schema, which lib/config owns
 * (`loadMachineConfig(text, source)`, ConfigError listing
 * `source:line:col: path: message`). Adapts it to what init needs: the config, and
 * warnings and problems as printable lines. Pure.
 */
import { loadMachineConfig as loadFromLib, type MachineConfig } from '../../../lib/config/machine-config.ts';
import { ConfigError, formatProblem } from '../../../lib/config/problems.ts';

export type { MachineConfig };

export interface LoadedMachineConfig {
  config: MachineConfig;
  /** Printable `source:line:col: path: message` lines. */
  warnings: string[];
}

/** Loads and validates a machine config text; throws ConfigError (CONFIG_INVALID) listing every problem. */
export function loadMachineConfig(text: string, source: string): LoadedMachineConfig {
  const { config, warnings } = loadFromLib(text, source);
  return { config, warnings: warnings.map((warning) => formatProblem(source, warning)) };
}

/** The config of a machine nobody configured: every default. */
export const DEFAULT_MACHINE_CONFIG: MachineConfig = loadFromLib('', 'defaults').config;

/** The problem lines of a config error, for the console. */
export function configProblemLines(error: unknown): string[] {
  if (error instanceof ConfigError) return error.problems.map((problem) => formatProblem(error.source, problem));
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n');
}
