/**
 * The updater's front door for the operator side (the `berth` CLI, the image builder, VM
 * tests): writing and signing bundles and channel metadata, rollout plans, and the pure
 * release and bundle types. Effects: files under the directory being published, key files.
 * What runs on a host comes through ./host.ts.
 */
export { changeHalts, createBundle, publishBundle } from './bundle.ts';
export { loadPrivateKey, loadPublicKey, signChannelMetadata, writeSigningKeyPair } from './signing.ts';
export { RATE_SKIP_MS } from './slot-io.ts';
export type { BundleManifest } from './core/bundle-manifest.ts';
export type { ChannelMetadata } from './core/release.ts';
export { validateWaves, WAVE_PLAN_NAMES, WAVE_PLANS, type Wave, type WavePlanName } from './core/rollout.ts';
