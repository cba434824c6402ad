import t from 'tap';
import { NAMESPACE_FLAGS, defaultSeccompProfile, seccompReason } from '../../src/core/seccomp.ts';
import { DEFAULT_CAPABILITIES } from '../../src/core/oci-spec.ts';

const deniedOf = (caps: readonly string[]): string[] => defaultSeccompProfile(caps).syscalls[0]?.names ?? [];

void t.test('the default profile for Docker\'s default capabilities', (t) => {
  const profile = defaultSeccompProfile(DEFAULT_CAPABILITIES);
  t.matchSnapshot(JSON.stringify(profile, null, 2), 'default seccomp profile');
  t.equal(profile.defaultAction, 'SCMP_ACT_ALLOW');
  t.same(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'the 32-bit ABIs are covered too');
  const denied = deniedOf(DEFAULT_CAPABILITIES);
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'bpf', 'keyctl', 'add_key', 'kexec_load', 'init_module', 'open_by_handle_at', 'perf_event_open', 'io_uring_setup', 'clock_settime', 'userfaultfd', 'ptrace'].filter((n) => n !== 'ptrace')) {
    t.ok(denied.includes(name), `${name} is refused`);
  }
  t.notOk(denied.includes('ptrace'), 'ptrace stays allowed, as in Docker on kernels >= 4.8');
  t.same(denied, [...denied].sort(), 'sorted for stable snapshots');
  const cloneRules = profile.syscalls.filter((rule) => rule.names.includes('clone'));
  t.equal(cloneRules.length, Object.keys(NAMESPACE_FLAGS).length, 'one clone rule per namespace flag');
  t.ok(cloneRules.some((rule) => rule.args?.[0]?.value === 0x10000000 && rule.args[0].valueTwo === 0x10000000 && rule.args[0].op === 'SCMP_CMP_MASKED_EQ'), 'CLONE_NEWUSER');
  t.match(profile.syscalls.find((rule) => rule.names.includes('clone3')), { action: 'SCMP_ACT_ERRNO', errnoRet: 38 }, 'clone3 -> ENOSYS');
  t.end();
});

void t.test('capabilities unlock what they unlock in Docker', (t) => {
  const admin = defaultSeccompProfile([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  const denied = admin.syscalls[0]?.names ?? [];
  for (const name of ['mount', 'unshare', 'setns', 'bpf', 'perf_event_open', 'syslog']) t.notOk(denied.includes(name), `${name} with CAP_SYS_ADMIN`);
  t.ok(denied.includes('keyctl'), 'the keyring stays closed even to CAP_SYS_ADMIN');
  t.ok(denied.includes('io_uring_setup'));
  t.notOk(admin.syscalls.some((rule) => rule.names.includes('clone') || rule.names.includes('clone3')), 'namespaces may be created');
  t.notOk(deniedOf(['CAP_SYS_TIME']).includes('clock_settime'));
  t.notOk(deniedOf(['CAP_BPF']).includes('bpf'));
  t.notOk(deniedOf(['CAP_PERFMON']).includes('perf_event_open'));
  t.notOk(deniedOf(['CAP_SYS_PTRACE']).includes('userfaultfd'));
  t.notOk(deniedOf(['CAP_SYS_BOOT']).includes('reboot'));
  t.notOk(deniedOf(['CAP_DAC_READ_SEARCH']).includes('open_by_handle_at'));
  t.notOk(deniedOf(['CAP_SYSLOG']).includes('syslog'));
  t.end();
});

void t.test('reasons', (t) => {
  t.equal(seccompReason('keyctl'), 'the kernel keyring is not namespaced');
  t.match(seccompReason('mount'), /allowed with CAP_SYS_ADMIN/);
  t.match(seccompReason('clone3'), /falls back to clone/);
  t.equal(seccompReason('read'), undefined);
  t.end();
});
