/**
 * berth's default seccomp profile, following what Docker's default profile blocks and which
 * capability re-enables each syscall. Written as a deny list over a default of allow (Docker
 * uses an allow list of ~370 names): every syscall Docker's documentation lists as blocked
 * is refused with EPERM unless the container holds the capability that unlocks it in
 * Docker, namespace creation through clone/unshare is refused without CAP_SYS_ADMIN, and
 * clone3 answers ENOSYS so libc falls back to the filterable clone. Pure.
 */

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
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
  architectures: string[];
  syscalls: SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;

/** CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (and NEWTIME). */
export const NAMESPACE_FLAGS: Readonly<Record<string, number>> = {
  CLONE_NEWTIME: 0x00000080,
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};

/** Syscalls refused unless the container holds one of the listed capabilities ([] = always). */
const GATED: ReadonlyArray<{ names: string[]; unlockedBy: string[]; why: string }> = [
  { names: ['add_key', 'keyctl', 'request_key'], unlockedBy: [], why: 'the kernel keyring is not namespaced' },
  { names: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'], unlockedBy: [], why: 'io_uring bypasses seccomp and has a history of escapes (blocked by Docker since 25.0)' },
  { names: ['create_module', 'get_kernel_syms', 'query_module', 'nfsservctl', 'uselib', 'ustat', 'sysfs', '_sysctl', 'vm86', 'vm86old', 'lookup_dcookie'], unlockedBy: [], why: 'obsolete' },
  { names: ['acct'], unlockedBy: ['CAP_SYS_PACCT'], why: 'process accounting is host-wide' },
  { names: ['bpf'], unlockedBy: ['CAP_SYS_ADMIN', 'CAP_BPF'], why: 'loads programs into the host kernel' },
  { names: ['perf_event_open'], unlockedBy: ['CAP_SYS_ADMIN', 'CAP_PERFMON'], why: 'leaks kernel and host information' },
  { names: ['clock_adjtime', 'clock_settime', 'settimeofday', 'stime'], unlockedBy: ['CAP_SYS_TIME'], why: 'time is not namespaced' },
  { names: ['init_module', 'finit_module', 'delete_module'], unlockedBy: ['CAP_SYS_MODULE'], why: 'kernel modules' },
  { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node', 'move_pages'], unlockedBy: ['CAP_SYS_NICE'], why: 'NUMA policy of the host' },
  { names: ['ioperm', 'iopl'], unlockedBy: ['CAP_SYS_RAWIO'], why: 'raw I/O ports' },
  { names: ['kcmp', 'userfaultfd'], unlockedBy: ['CAP_SYS_PTRACE'], why: 'process inspection, exploit primitive' },
  { names: ['kexec_file_load', 'kexec_load', 'reboot'], unlockedBy: ['CAP_SYS_BOOT'], why: 'replaces or restarts the host kernel' },
  { names: ['open_by_handle_at'], unlockedBy: ['CAP_DAC_READ_SEARCH'], why: "opens host files by handle (the 'shocker' escape)" },
  {
    names: ['mount', 'umount', 'umount2', 'pivot_root', 'setns', 'unshare', 'swapon', 'swapoff', 'quotactl', 'quotactl_fd', 'name_to_handle_at', 'fanotify_init', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr'],
    unlockedBy: ['CAP_SYS_ADMIN'],
    why: 'mounts, namespaces and host administration',
  },
  { names: ['syslog'], unlockedBy: ['CAP_SYSLOG', 'CAP_SYS_ADMIN'], why: 'reads the host kernel log' },
  { names: ['vhangup'], unlockedBy: ['CAP_SYS_TTY_CONFIG'], why: 'hangs up the terminal' },
];

/**
 * The profile for a container holding `capabilities` (after cap_add/cap_drop), for x86-64
 * (and its 32-bit and x32 ABIs, which a container could otherwise use to dodge the rules).
 */
export function defaultSeccompProfile(capabilities: readonly string[]): SeccompProfile {
  const has = (cap: string): boolean => capabilities.includes(cap);
  const denied = GATED.filter((group) => !group.unlockedBy.some(has)).flatMap((group) => group.names);
  const syscalls: SeccompRule[] = [{ names: [...denied].sort(), action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }];
  if (!has('CAP_SYS_ADMIN')) {
    // clone's flags are its first argument on x86; one rule per flag because libseccomp
    // can only test "(arg & mask) == value".
    for (const flag of Object.values(NAMESPACE_FLAGS)) {
      syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
    }
    // clone3 passes flags in a struct seccomp cannot read: ENOSYS makes libc use clone.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls,
  };
}

/** Why a syscall is refused by the default profile, for `berth` diagnostics. */
export function seccompReason(syscall: string): string | undefined {
  const group = GATED.find((candidate) => candidate.names.includes(syscall));
  if (group === undefined) return syscall === 'clone3' ? 'flags cannot be filtered; libc falls back to clone' : undefined;
  return group.unlockedBy.length === 0 ? group.why : `${group.why} (allowed with ${group.unlockedBy.join(' or ')})`;
}
