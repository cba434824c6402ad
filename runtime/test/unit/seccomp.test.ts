import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { DOCKER_PROFILE_SOURCE, capabilitiesUnlocking, defaultSeccompProfile, isSyscallAllowed, seccompProfileFor } from '../../src/core/seccomp.ts';
import { DEFAULT_CAPABILITIES } from '../../src/core/oci-spec.ts';

const profileFile = new URL('../../src/core/docker-seccomp-default.json', import.meta.url);

void t.test('the data file is Docker\'s profile as published', (t) => {
  t.equal(createHash('sha256').update(readFileSync(profileFile)).digest('hex'), DOCKER_PROFILE_SOURCE.sha256, 'byte for byte the noted source');
  t.end();
});

void t.test('the default profile for Docker\'s default capabilities', (t) => {
  const profile = defaultSeccompProfile(DEFAULT_CAPABILITIES);
  // The one place the whole generated profile is asserted (the OCI spec snapshots show a marker).
  t.matchSnapshot(JSON.stringify(profile, null, 2), 'default seccomp profile');
  t.equal(profile.defaultAction, 'SCMP_ACT_ERRNO', 'an allow list: anything not named is refused');
  t.equal(profile.defaultErrnoRet, 1, 'with EPERM, as Docker');
  t.same(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'the 32-bit ABIs are covered too');
  t.ok(profile.syscalls.every((rule) => rule.action === 'SCMP_ACT_ALLOW' || rule.names.join() === 'clone3'), 'every rule allows, except clone3 -> ENOSYS');
  for (const name of ['read', 'write', 'openat', 'execve', 'futex', 'epoll_wait', 'arch_prctl', 'modify_ldt', 'ptrace', 'process_vm_readv']) t.ok(isSyscallAllowed(profile, name), `${name} allowed`);
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'bpf', 'keyctl', 'add_key', 'request_key', 'kexec_load', 'init_module', 'open_by_handle_at', 'perf_event_open', 'io_uring_setup', 'clock_settime', 'userfaultfd', 'reboot', 'swapon', 'syslog', 'pidfd_getfd', 'kcmp', 'sethostname', 'fsopen', 'acct', 'iopl', 'vhangup', 'mbind']) {
    t.notOk(profile.syscalls.some((rule) => rule.names.includes(name)), `${name} not in the list`);
  }
  t.notOk(profile.syscalls.some((rule) => rule.names.some((n) => n.startsWith('s390_') || n === 'riscv_flush_icache' || n === 'breakpoint')), 'no other architecture\'s entries');
  const clone = profile.syscalls.filter((rule) => rule.names.includes('clone'));
  t.same(clone, [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }], 'clone only without namespace flags, flags in arg 0 on x86');
  t.same(
    profile.syscalls.find((rule) => rule.names.includes('clone3')),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    'clone3 -> ENOSYS so libc falls back to the filterable clone',
  );
  t.same(
    profile.syscalls.filter((rule) => rule.names.includes('personality')).map((rule) => rule.args?.[0]?.value),
    [0, 8, 0x20000, 0x20008, 0xffffffff],
    'personality only with Docker\'s values',
  );
  t.equal(profile.syscalls.filter((rule) => rule.names.includes('socket')).length, 3, 'socket with its address-family filters');
  t.end();
});

void t.test('capability-gated groups are present only with the capability', (t) => {
  const base = defaultSeccompProfile(DEFAULT_CAPABILITIES);
  const withCap = (cap: string) => seccompProfileFor([...DEFAULT_CAPABILITIES, cap]);
  const admin = withCap('CAP_SYS_ADMIN');
  for (const name of ['mount', 'unshare', 'setns', 'bpf', 'perf_event_open', 'syslog', 'clone', 'clone3', 'fsopen', 'sethostname']) {
    t.ok(isSyscallAllowed(admin, name), `${name} with CAP_SYS_ADMIN`);
    t.notOk(isSyscallAllowed(base, name), `${name} not without`);
  }
  t.notOk(admin.syscalls.some((rule) => rule.names.includes('clone') && rule.args !== undefined), 'no clone flag filter with CAP_SYS_ADMIN');
  t.notOk(admin.syscalls.some((rule) => rule.action === 'SCMP_ACT_ERRNO'), 'clone3 not forced to ENOSYS with CAP_SYS_ADMIN');
  for (const name of ['keyctl', 'add_key', 'io_uring_setup', 'userfaultfd', 'kexec_load', 'pivot_root', 'swapon']) t.notOk(isSyscallAllowed(admin, name), `${name} stays closed even to CAP_SYS_ADMIN`);
  const ptrace = withCap('CAP_SYS_PTRACE');
  for (const name of ['pidfd_getfd', 'kcmp', 'process_madvise']) {
    t.ok(isSyscallAllowed(ptrace, name), `${name} with CAP_SYS_PTRACE`);
    t.notOk(isSyscallAllowed(base, name), `${name} not without`);
  }
  t.notOk(isSyscallAllowed(seccompProfileFor(['CAP_SYS_PTRACE', 'CAP_SYS_ADMIN']), 'userfaultfd'), 'userfaultfd never');
  const gated: Array<[string, string]> = [
    ['CAP_SYS_TIME', 'clock_settime'],
    ['CAP_BPF', 'bpf'],
    ['CAP_PERFMON', 'perf_event_open'],
    ['CAP_SYS_BOOT', 'reboot'],
    ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'],
    ['CAP_SYSLOG', 'syslog'],
    ['CAP_SYS_MODULE', 'init_module'],
    ['CAP_SYS_RAWIO', 'iopl'],
    ['CAP_SYS_PACCT', 'acct'],
    ['CAP_SYS_NICE', 'mbind'],
    ['CAP_SYS_TTY_CONFIG', 'vhangup'],
  ];
  for (const [cap, name] of gated) {
    t.ok(isSyscallAllowed(withCap(cap), name), `${name} with ${cap}`);
    t.notOk(isSyscallAllowed(base, name), `${name} not without ${cap}`);
  }
  t.ok(isSyscallAllowed(base, 'chroot'), 'chroot with the default CAP_SYS_CHROOT');
  t.notOk(isSyscallAllowed(seccompProfileFor([]), 'chroot'), 'chroot not once CAP_SYS_CHROOT is dropped');
  t.end();
});

void t.test('capabilitiesUnlocking names the gate', (t) => {
  t.same(capabilitiesUnlocking('mount'), ['CAP_SYS_ADMIN']);
  t.same(capabilitiesUnlocking('bpf'), ['CAP_BPF', 'CAP_SYS_ADMIN']);
  t.same(capabilitiesUnlocking('userfaultfd'), []);
  t.same(capabilitiesUnlocking('read'), []);
  t.end();
});

void t.test('the include/exclude rules of moby\'s loader', (t) => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [],
    syscalls: [
      { names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
      { names: ['b'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '4.0' } },
      { names: ['c'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['d'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
      { names: ['e'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8', arches: ['amd64', 'x32'] } },
    ],
  };
  const out = seccompProfileFor([], 'amd64', profile);
  t.same(out.syscalls.map((rule) => rule.names[0]), ['e']);
  t.same(out.architectures, ['SCMP_ARCH_X86_64'], 'no archMap entry: the native arch alone');
  t.notOk('defaultErrnoRet' in out);
  t.throws(() => seccompProfileFor([], 'amd64', { ...profile, syscalls: [{ names: ['x'], action: 'SCMP_ACT_LOG' }] }), /Unexpected seccomp action/);
  t.end();
});
