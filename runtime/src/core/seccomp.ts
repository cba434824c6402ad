/**
 * berth's default seccomp profile: Docker's own default profile, kept verbatim as data in
 * docker-seccomp-default.json (see DOCKER_PROFILE_SOURCE), turned into the OCI `linux.seccomp`
 * of one container for its capabilities and architecture the way moby's loader does it. An
 * allow list: any syscall not named, including ones future kernels add, fails with EPERM. Pure.
 */
import dockerDefault from './docker-seccomp-default.json' with { type: 'json' };

/** Where docker-seccomp-default.json comes from, byte for byte (a unit test checks the hash). */
export const DOCKER_PROFILE_SOURCE = {
  repository: 'github.com/moby/moby',
  commit: 'b985e2313a8676e18072b442911fc8f64f17d440',
  path: 'vendor/github.com/moby/profiles/seccomp/default.json',
  module: 'github.com/moby/profiles/seccomp v0.2.3',
  sha256: '536529b665dd0972c37bfb569f5d4ac8a53592e7b00752bc39ff063ca9864c74',
} as const;

export type SeccompOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOp;
}

export interface SeccompRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: SeccompArg[];
}

/** The `linux.seccomp` object of the OCI runtime spec. */
export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: SeccompRule[];
}

/** Go architecture names as the profile's `arches` filters spell them; berth runs on amd64. */
export type ProfileArch = 'amd64';

/** The lowest kernel berth's guest runs (for `minKernel` filters; the image ships 6.x). */
export const MIN_KERNEL = '6.1';

/** One entry of the Docker profile file (moby profiles/seccomp Syscall). */
interface DockerRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
  comment?: string;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[]; minKernel?: string };
}

interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap: Array<{ architecture: string; subArchitectures: string[] }>;
  syscalls: DockerRule[];
}

/** Go arch -> the libseccomp architecture whose archMap entry applies (moby's nativeToSeccomp). */
const SECCOMP_ARCH: Readonly<Record<ProfileArch, string>> = { amd64: 'SCMP_ARCH_X86_64' };

function kernelAtLeast(have: string, want: string): boolean {
  const [haveMajor = 0, haveMinor = 0] = have.split('.').map(Number);
  const [wantMajor = 0, wantMinor = 0] = want.split('.').map(Number);
  return haveMajor > wantMajor || (haveMajor === wantMajor && haveMinor >= wantMinor);
}

function asAction(action: string): SeccompRule['action'] {
  if (action === 'SCMP_ACT_ALLOW' || action === 'SCMP_ACT_ERRNO') return action;
  throw new Error(`Unexpected seccomp action ${action} in the Docker profile`);
}

/**
 * The OCI profile for a container holding `capabilities` (CAP_* names after cap_add/cap_drop)
 * on `arch`, from `profile` (default: Docker's): a rule is kept when every `includes` holds
 * (any listed cap held, the arch listed, the kernel new enough) and no `excludes` does, as in
 * moby's setupSeccomp. The architectures are the arch's archMap entry (x86-64 with its 32-bit
 * and x32 ABIs, so a container cannot dodge the list through another ABI).
 */
export function seccompProfileFor(capabilities: readonly string[], arch: ProfileArch = 'amd64', profile: DockerProfile = dockerDefault as DockerProfile): SeccompProfile {
  const native = SECCOMP_ARCH[arch];
  const map = profile.archMap.find((entry) => entry.architecture === native);
  const architectures = map === undefined ? [native] : [map.architecture, ...map.subArchitectures];
  const syscalls: SeccompRule[] = [];
  for (const rule of profile.syscalls) {
    const inc = rule.includes ?? {};
    const exc = rule.excludes ?? {};
    if (inc.caps !== undefined && inc.caps.length > 0 && !inc.caps.some((cap) => capabilities.includes(cap))) continue;
    if (inc.arches !== undefined && inc.arches.length > 0 && !inc.arches.includes(arch)) continue;
    if (inc.minKernel !== undefined && !kernelAtLeast(MIN_KERNEL, inc.minKernel)) continue;
    if (exc.caps?.some((cap) => capabilities.includes(cap)) === true) continue;
    if (exc.arches?.includes(arch) === true) continue;
    if (exc.minKernel !== undefined && kernelAtLeast(MIN_KERNEL, exc.minKernel)) continue;
    const out: SeccompRule = { names: [...rule.names], action: asAction(rule.action) };
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    if (rule.args !== undefined) out.args = rule.args.map((arg) => ({ index: arg.index, value: arg.value, valueTwo: arg.valueTwo ?? 0, op: arg.op as SeccompOp }));
    syscalls.push(out);
  }
  const result: SeccompProfile = { defaultAction: asAction(profile.defaultAction), architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) result.defaultErrnoRet = profile.defaultErrnoRet;
  return result;
}

/** The default profile for a container holding `capabilities`, on x86-64. */
export function defaultSeccompProfile(capabilities: readonly string[]): SeccompProfile {
  return seccompProfileFor(capabilities, 'amd64');
}

/**
 * Whether `syscall` is allowed outright (by name, without argument filters) under `profile`;
 * for diagnostics and tests.
 */
export function isSyscallAllowed(profile: SeccompProfile, syscall: string): boolean {
  return profile.syscalls.some((rule) => rule.action === 'SCMP_ACT_ALLOW' && rule.args === undefined && rule.names.includes(syscall));
}

/** The capabilities that unlock `syscall` in Docker's profile ([] when none does). */
export function capabilitiesUnlocking(syscall: string, profile: DockerProfile = dockerDefault as DockerProfile): string[] {
  const caps = profile.syscalls.filter((rule) => rule.action === 'SCMP_ACT_ALLOW' && rule.args === undefined && rule.names.includes(syscall)).flatMap((rule) => rule.includes?.caps ?? []);
  return [...new Set(caps)].sort();
}
