/**
 * The `berth` CLI's front door: what other components, test harnesses and scripts may use of
 * it without reaching into its modules. main.ts stays the only place that reads argv and exits.
 */
export { parseBootConsole } from './analyze/core/boot-timeline.ts';
export { renderBootSvg } from './analyze/core/boot-svg.ts';
export { createApiClient, type ApiClient } from './ctl/client.ts';
export { parseCtlArgs, type CtlCommand } from './ctl/args.ts';
export { runCtl, type CtlIo } from './ctl/run.ts';
export { makeApiClientKeys, type ApiClientKeys } from './keys/api-certs.ts';
export { parseVmRunArgs, type VmRunCommand } from './vm/args.ts';
export { runVm, type VmRunIo } from './vm/run.ts';
