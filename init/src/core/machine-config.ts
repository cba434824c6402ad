/**
 * What init adds to the machine config, whose one loader is lib/config's `loadMachineConfig(text,
 * source)` (ConfigError listing `source:line:col: path: message`): the all-defaults config, and
 * warnings and problems as printable lines for the console. Pure.
 */
import { loadMachineConfig, type MachineConfig } from '../../../lib/config/machine-config.ts';
import { ConfigError, formatProblem, type Problem } from '../../../lib/config/problems.ts';

export type { MachineConfig };

/** The config of a machine nobody configured: every default. */
export const DEFAULT_MACHINE_CONFIG: MachineConfig = loadMachineConfig('', 'defaults').config;

/** Warnings as printable `source:line:col: path: message` lines. */
export function warningLines(source: string, warnings: readonly Problem[]): string[] {
  return warnings.map((warning) => formatProblem(source, warning));
}

/** The problem lines of a config error, for the console. */
export function configProblemLines(error: unknown): string[] {
  if (error instanceof ConfigError) return error.problems.map((problem) => formatProblem(error.source, problem));
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n');
}
