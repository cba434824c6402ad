/**
 * Test helpers for the config toolkit: the ConfigError a load or validation throws,
 * so tests can assert on its problems. Not a test file itself.
 */
import { loadMachineConfig } from '../../config/machine-config.ts';
import { ConfigError } from '../../config/problems.ts';

/** The ConfigError `run` throws; anything else it throws passes through, and throwing nothing fails the test. */
export function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** The ConfigError loading `text` as the machine config throws. */
export function machineConfigErrorOf(text: string): ConfigError {
  return configErrorOf(() => loadMachineConfig(text, 'config.yaml'));
}

/** The problems loading `text` as the machine config reports, each as `path: message`. */
export function machineConfigProblemsOf(text: string): string[] {
  return machineConfigErrorOf(text).problems.map((p) => `${p.path}: ${p.message}`);
}
