/**
 * Which machine config this boot uses. fw_cfg (set by whoever started the VM) wins when
 * it is valid and becomes the last good copy on /var; an invalid text is reported with
 * its problems and the machine keeps its last good config, or the defaults. Pure: the
 * texts come in, the choice (and what to save) goes out.
 */
import { DEFAULT_MACHINE_CONFIG, configProblemLines, type LoadedMachineConfig, type MachineConfig } from './machine-config.ts';

export type ConfigOrigin = 'fw_cfg' | 'saved' | 'defaults';

export interface ConfigTexts {
  /** Text of the fw_cfg item, undefined when QEMU passed none. */
  fwCfg?: string;
  /** Text of the last good copy on /var, undefined when there is none. */
  saved?: string;
}

export interface ConfigSourceNames {
  fwCfg: string;
  saved: string;
}

export interface RejectedConfig {
  origin: 'fw_cfg' | 'saved';
  source: string;
  /** `source:line:col: path: message` lines. */
  problems: string[];
  error: unknown;
}

export interface ConfigChoice {
  config: MachineConfig;
  origin: ConfigOrigin;
  source: string;
  warnings: string[];
  rejected: RejectedConfig[];
  /** Text to store as the last good copy (a valid fw_cfg config that differs from it). */
  save?: string;
}

export type MachineConfigLoader = (text: string, source: string) => LoadedMachineConfig;

/** Chooses the config; never throws for a bad text (that is what `rejected` is for). */
export function chooseMachineConfig(texts: ConfigTexts, names: ConfigSourceNames, loadConfig: MachineConfigLoader): ConfigChoice {
  const rejected: RejectedConfig[] = [];
  const attempt = (origin: 'fw_cfg' | 'saved', text: string, source: string): LoadedMachineConfig | undefined => {
    try {
      return loadConfig(text, source);
    } catch (error) {
      rejected.push({ origin, source, problems: configProblemLines(error), error });
      return undefined;
    }
  };
  if (texts.fwCfg !== undefined) {
    const loaded = attempt('fw_cfg', texts.fwCfg, names.fwCfg);
    if (loaded) {
      const choice: ConfigChoice = { config: loaded.config, origin: 'fw_cfg', source: names.fwCfg, warnings: loaded.warnings, rejected };
      if (texts.fwCfg !== texts.saved) choice.save = texts.fwCfg;
      return choice;
    }
  }
  if (texts.saved !== undefined) {
    const loaded = attempt('saved', texts.saved, names.saved);
    if (loaded) return { config: loaded.config, origin: 'saved', source: names.saved, warnings: loaded.warnings, rejected };
  }
  return { config: DEFAULT_MACHINE_CONFIG, origin: 'defaults', source: 'defaults', warnings: [], rejected };
}
