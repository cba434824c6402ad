/**
 * The qemu-tests harness's front door, for the benchmarks in scripts/ (other components' tests
 * do not import test code across components): the guest API through the debug shell, a
 * loopback registry and a static file server. Effects: those of the modules it re-exports
 * (a node process in the guest, docker-registry and skopeo, a loopback HTTP server).
 */
export { guestApi, guestApiOk, type GuestApiAnswer } from './guest-api.ts';
export { missingRegistryTools, startRegistry, type LoopbackRegistry } from './registry.ts';
export { servedRate, servedTimeline, startStaticServer, type RequestRecord, type ServedRate, type StaticServer } from './static-server.ts';
