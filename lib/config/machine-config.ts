/**
 * The machine config: the YAML document that says what a berth host is and runs. Its top level is
 * composed of sections, one module each under ./sections/; this module joins them and loads the
 * text. Pure: the caller reads the file (fw_cfg or /var/lib/berth/config.yaml) and passes the text.
 *
 * Adding a section (containers, registries, update, network, ...): write
 * `lib/config/sections/<name>.ts` exporting a Shape (`{ containers: record(container).default({}) }`)
 * and spread it into `machineConfigShape` below. Checks across sections go in `crossChecks`.
 */
import { loadYaml } from './load.ts';
import type { Problem } from './problems.ts';
import { apiSection } from './sections/api.ts';
import { containerNetworkSection } from './sections/container-network.ts';
import { containersSection } from './sections/containers.ts';
import { debugSection } from './sections/debug.ts';
import { etcdSection, etcdUpdateProblem } from './sections/etcd.ts';
import { coordinatorEtcdEndpoints, fleetCoordinatorSection } from './sections/fleet-coordinator.ts';
import { hostSection } from './sections/host.ts';
import { kernelSection } from './sections/kernel.ts';
import { networkSection } from './sections/network.ts';
import { storageSection } from './sections/storage.ts';
import { timeSection } from './sections/time.ts';
import { updateSection } from './sections/update.ts';
import { object, type Infer, type ObjectOutput, type Report, type Shape } from './validate.ts';

/** Every top-level key of the machine config, by section. */
export const machineConfigShape = {
  ...hostSection,
  ...networkSection,
  ...timeSection,
  ...kernelSection,
  ...debugSection,
  ...containersSection,
  ...containerNetworkSection,
  ...storageSection,
  ...apiSection,
  ...updateSection,
  ...etcdSection,
  ...fleetCoordinatorSection,
} satisfies Shape;

/** Checks that span sections (e.g. a container's network referring to a declared network). */
const crossChecks: ReadonlyArray<(config: ObjectOutput<typeof machineConfigShape>, report: Report) => void> = [
  // An etcd member updates one at a time with its peers, or the cluster could lose quorum.
  (config, report) => {
    if (config.etcd === undefined) return;
    const problem = etcdUpdateProblem(config.etcd, config.update);
    if (problem) report(problem.message, { path: problem.path });
  },
  // The coordinator needs an etcd to keep its state in: its own endpoints or this host's member.
  (config, report) => {
    const coordinator = config.fleet_coordinator;
    if (coordinator === undefined || coordinatorEtcdEndpoints(coordinator, config.etcd) !== undefined) return;
    report(
      config.etcd === undefined
        ? 'the coordinator keeps its state in etcd: set fleet_coordinator.etcd_endpoints, or make this host an etcd member (etcd:)'
        : "this host's etcd member has https client_urls, which the coordinator's etcd client cannot use: set fleet_coordinator.etcd_endpoints to http client URLs",
      { path: ['fleet_coordinator'] },
    );
  },
];

/**
 * The machine config schema. Top-level `x-...` keys are accepted and ignored, so a config can keep
 * YAML anchors there (`x-defaults: &defaults ...`) as Compose files do.
 */
export const machineConfigSchema = object(machineConfigShape, { allowKeys: /^x-/ }).refine((config, report) => {
  for (const check of crossChecks) check(config, report);
});

/** A validated machine config, with every default filled in. */
export type MachineConfig = Infer<typeof machineConfigSchema>;

/**
 * Parses and validates a machine config. `source` names the text in messages (a path, or
 * `fw_cfg:opt/berth/config`). An empty text or `{}` is valid: all defaults. Throws ConfigError
 * (code CONFIG_INVALID) listing every problem as `<source>:<line>:<col>: <path>: <message>`.
 */
export function loadMachineConfig(text: string, source: string): { config: MachineConfig; warnings: Problem[] } {
  const { value, warnings } = loadYaml(text, source, machineConfigSchema);
  return { config: value, warnings };
}
