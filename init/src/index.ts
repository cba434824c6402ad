/**
 * init's front door: the little other components may use of PID 1 without reaching into its
 * modules. Today that is the pure cgroup sizing the VM tests check a booted guest against.
 * Pure: no effects.
 */
export { parseMemTotal, parseProcInteger, servicesLimits } from './core/cgroup-plan.ts';
