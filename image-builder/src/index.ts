/**
 * The image builder's front door: what other components (the `berth` CLI, benchmarks) may
 * use. Building writes under the output and cache directories and runs the build tools.
 */
export { buildImage, type ArtifactInfo, type BuildManifest, type BuildOptions } from './build.ts';
export { loadProfileFile } from './profile/load.ts';
export type { BuildProfile } from './profile/profile.ts';
export { ROOT_SQUASHFS_COMPRESSION, type RootFilesystem } from './steps/root-image.ts';
export { BUNDLE_DIR_NAME, emitUpdateBundle, type EmitBundleInput } from './update-bundle.ts';
export { BUNDLE_ENTRIES, BUNDLE_SPLITTING, INIT_BUNDLE_ENTRIES, isBundleOutput, unsnapshottableImports, withModuleObject } from './steps/bundle.ts';
export { nativeCompileArgv } from './steps/native.ts';
