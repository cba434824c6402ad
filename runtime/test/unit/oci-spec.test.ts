import t from 'tap';
import {
  ALL_CAPABILITIES,
  CGROUP_PARENT,
  DEFAULT_CAPABILITIES,
  buildOciSpec,
  effectiveCapabilities,
  normaliseCapability,
  processArgs,
  processEnv,
  resolveUser,
  type ContainerSpecInput,
} from '../../src/core/oci-spec.ts';
import type { ImageConfig } from '../../src/core/manifest.ts';
import { defaultSeccompProfile, isSyscallAllowed } from '../../src/core/seccomp.ts';
import type { OciSpec } from '../../src/core/oci-spec.ts';
import { errorCode } from '../../../lib/errors.ts';

/** Snapshots show which profile a spec carries, not its ~400 lines (seccomp.test.ts asserts those once). */
function withSeccompMarker(spec: OciSpec): unknown {
  const { seccomp, ...linux } = spec.linux;
  if (seccomp === undefined) return spec;
  const isDefault = JSON.stringify(seccomp) === JSON.stringify(defaultSeccompProfile(spec.process.capabilities.bounding));
  return { ...spec, linux: { ...linux, seccomp: isDefault ? '<docker default profile for the bounding capabilities>' : seccomp } };
}

const image: ImageConfig = {
  digest: `sha256:${'1e'.repeat(32)}`,
  os: 'linux',
  architecture: 'amd64',
  user: 'nginx',
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NGINX_VERSION=1.27.0'],
  entrypoint: ['/docker-entrypoint.sh'],
  cmd: ['nginx', '-g', 'daemon off;'],
  exposedPorts: ['80/tcp'],
  volumes: [],
  labels: {},
  stopSignal: 'SIGQUIT',
  diffIds: [`sha256:${'40'.repeat(32)}`],
};

const base: ContainerSpecInput = {
  name: 'web',
  image,
  imageReference: 'docker.io/library/nginx:1.27',
  rootfsPath: '/run/berth/containers/web/rootfs',
  user: { uid: 101, gid: 101, additionalGids: [] },
  network: { mode: 'bridge', namespacePath: '/run/berth/netns/web' },
  files: {
    hostsPath: '/run/berth/containers/web/hosts',
    resolvConfPath: '/run/berth/containers/web/resolv.conf',
    hostnamePath: '/run/berth/containers/web/hostname',
  },
};

void t.test('an nginx container with Docker defaults', (t) => {
  const spec = buildOciSpec(base);
  t.matchSnapshot(JSON.stringify(withSeccompMarker(spec), null, 2), 'config.json');
  t.same(spec.process.args, ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
  t.same(spec.process.capabilities.bounding, ALL_CAPABILITIES.filter((cap) => DEFAULT_CAPABILITIES.includes(cap)));
  t.equal(spec.process.capabilities.bounding.length, 14);
  t.equal(spec.process.noNewPrivileges, true);
  t.same(spec.linux.namespaces.map((ns) => ns.type), ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'network'], 'every namespace but user');
  t.equal(spec.linux.cgroupsPath, '/berth.slice/web');
  t.equal(CGROUP_PARENT, '/berth.slice');
  t.ok(spec.linux.maskedPaths?.includes('/proc/kcore'));
  t.ok(spec.linux.readonlyPaths?.includes('/proc/sys'));
  t.same(spec.mounts.filter((m) => m.destination.startsWith('/etc/')).map((m) => m.destination), ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname']);
  t.equal(spec.hostname, 'web');
  t.ok(spec.process.env.includes('HOSTNAME=web'));
  t.equal(spec.process.cwd, '/');
  t.same(spec.linux.seccomp, defaultSeccompProfile(spec.process.capabilities.bounding), 'the default seccomp profile for its capabilities is applied');
  t.equal(buildOciSpec({ ...base, seccomp: 'unconfined' }).linux.seccomp, undefined, 'unconfined is explicit');
  const admin = buildOciSpec({ ...base, capAdd: ['SYS_ADMIN'] }).linux.seccomp;
  t.ok(admin !== undefined && isSyscallAllowed(admin, 'mount'), 'the profile follows cap_add');
  t.end();
});

void t.test('privileged is explicit and drops every protection', (t) => {
  const spec = buildOciSpec({
    ...base,
    name: 'tools',
    privileged: true,
    hostDevices: [{ path: '/dev/vda', type: 'b', major: 254, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }],
    seccomp: { defaultAction: 'SCMP_ACT_ERRNO', architectures: [], syscalls: [] },
  });
  t.matchSnapshot(JSON.stringify(spec, null, 2), 'privileged config.json');
  t.same(spec.process.capabilities.bounding, ALL_CAPABILITIES);
  t.equal(spec.linux.maskedPaths, undefined);
  t.equal(spec.linux.readonlyPaths, undefined);
  t.equal(spec.linux.seccomp, undefined, 'no seccomp');
  t.same(spec.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  t.equal(spec.annotations['dev.berth.privileged'], 'true');
  t.match(spec.mounts.find((m) => m.destination === '/sys'), { options: ['nosuid', 'noexec', 'nodev', 'rw'] });
  t.end();
});

void t.test('a worker with limits, volumes, a read-only root, host network and capability changes', (t) => {
  const spec = buildOciSpec({
    ...base,
    name: 'worker',
    hostname: 'worker-1',
    command: ['/usr/bin/worker', '--once'],
    entrypoint: [],
    environment: { MODE: 'batch', PATH: '/opt/bin:/usr/bin' },
    workingDir: '/srv',
    readOnly: true,
    capAdd: ['net_admin', 'CAP_SYS_TIME'],
    capDrop: ['NET_RAW', 'mknod'],
    noNewPrivileges: false,
    sysctls: { 'kernel.shmmax': '1000000', 'fs.mqueue.msg_max': '20' },
    ulimits: { nofile: { soft: 4096, hard: 8192 }, core: { soft: 0, hard: 0 } },
    memLimitBytes: 256 * 1024 * 1024,
    memReservationBytes: 128 * 1024 * 1024,
    cpus: 1.5,
    pidsLimit: 200,
    shmSizeBytes: 16 * 1024 * 1024,
    network: { mode: 'host' },
    mounts: [
      { type: 'bind', source: '/var/lib/berth/volumes/data/_data', destination: '/data' },
      { type: 'bind', source: '/var/lib/berth/binds/config', destination: '/etc/worker', readOnly: true },
      { type: 'tmpfs', destination: '/tmp', sizeBytes: 10_000_000, mode: 0o1777 },
    ],
    labels: { 'com.example.team': 'data' },
  });
  t.matchSnapshot(JSON.stringify(withSeccompMarker(spec), null, 2), 'worker config.json');
  t.same(spec.process.args, ['/usr/bin/worker', '--once'], 'an empty entrypoint drops the image entrypoint');
  t.same(spec.linux.namespaces.map((ns) => ns.type), ['pid', 'ipc', 'uts', 'mount', 'cgroup'], 'host network: no network namespace');
  t.ok(spec.process.capabilities.bounding.includes('CAP_NET_ADMIN'));
  t.notOk(spec.process.capabilities.bounding.includes('CAP_NET_RAW'));
  t.equal(spec.process.noNewPrivileges, false);
  t.equal(spec.root.readonly, true);
  t.same(spec.linux.resources.cpu, { period: 100_000, quota: 150_000 });
  t.same(spec.linux.resources.memory, { limit: 268435456, swap: 536870912, reservation: 134217728 });
  t.same(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 4096, hard: 8192 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }]);
  t.ok(spec.process.env.includes('PATH=/opt/bin:/usr/bin'), 'definition env overrides the image');
  t.match(spec.mounts.find((m) => m.destination === '/etc/hosts'), { options: ['rbind', 'rprivate', 'nosuid', 'nodev', 'noexec', 'ro'] });
  t.end();
});

void t.test('sharing another container\'s network namespace', (t) => {
  const spec = buildOciSpec({ ...base, name: 'sidecar', network: { mode: 'container', namespacePath: '/proc/412/ns/net' } });
  t.same(spec.linux.namespaces.at(-1), { type: 'network', path: '/proc/412/ns/net' });
  const none = buildOciSpec({ ...base, name: 'isolated', network: { mode: 'none' } });
  t.same(none.linux.namespaces.at(-1), { type: 'network' }, 'none: a fresh, empty namespace');
  t.end();
});

void t.test('every problem is reported at once', (t) => {
  t.throws(
    () =>
      buildOciSpec({
        ...base,
        name: 'bad name',
        hostname: '-x',
        image: { ...image, entrypoint: [], cmd: [] },
        workingDir: 'srv',
        capAdd: ['NET_ADMINN'],
        capDrop: ['bogus'],
        sysctls: { 'kernel.panic': '1', 'net.ipv4.ip_forward': '1', 'kernel.hostname': 'x' },
        ulimits: { files: { soft: 1, hard: 1 }, nofile: { soft: 10, hard: 5 } },
        memLimitBytes: 1024,
        cpus: 0,
        pidsLimit: 0,
        network: { mode: 'bridge' },
        mounts: [{ type: 'bind', source: 'relative', destination: '/etc/hosts' }, { type: 'tmpfs', destination: '/a/../b' }],
      }),
    {
      code: errorCode('RUNTIME_SPEC_INVALID'),
      message: [
        'Cannot build the runtime config of container bad name: name "bad name" must be letters, digits, \'_\', \'.\', \'-\'',
        'hostname "-x" is not a valid host name',
        'nothing to run: the image has no entrypoint or cmd and the definition sets no command',
        'working_dir "srv" must be an absolute path',
        'cap_add[0]: unknown capability "NET_ADMINN"',
        'cap_drop[0]: unknown capability "bogus"',
        'sysctls.kernel.panic: not a namespaced sysctl; it would change the host',
        'sysctls.kernel.hostname: set hostname/domainname instead',
        'ulimits.files: unknown limit (expected one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)',
        'ulimits.nofile: soft limit 10 is above the hard limit 5',
        'mounts[0].destination "/etc/hosts" is managed by berth',
        'mounts[0].source "relative" must be an absolute path without \'..\'',
        'mounts[1].destination "/a/../b" must be an absolute path without \'..\'',
        'network: bridge mode needs the namespace berth prepared with CNI',
        'mem_limit: 1024 bytes is below the 6 MiB minimum',
        'cpus: expected a positive number but got 0',
        'pids_limit: expected a positive integer or -1 but got 0',
      ].join('; '),
    },
  );
  t.throws(() => buildOciSpec({ ...base, network: { mode: 'host' }, sysctls: { 'net.core.somaxconn': '1024' } }), { message: /net\.\* sysctls would change the host/ });
  t.end();
});

void t.test('capability arithmetic follows Docker', (t) => {
  t.equal(normaliseCapability('net_admin'), 'CAP_NET_ADMIN');
  t.equal(normaliseCapability('all'), 'ALL');
  const problems: string[] = [];
  t.same(effectiveCapabilities(['ALL'], ['SYS_ADMIN'], problems).length, ALL_CAPABILITIES.length - 1);
  t.same(effectiveCapabilities(['CHOWN', 'NET_BIND_SERVICE'], ['ALL'], problems), ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'], 'drop ALL then add');
  t.same(effectiveCapabilities([], ['ALL'], problems), []);
  t.same(effectiveCapabilities(['SYS_PTRACE'], [], problems).length, 15);
  t.same(problems, []);
  t.end();
});

void t.test('args and env follow Docker', (t) => {
  t.same(processArgs(image, undefined, undefined), ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
  t.same(processArgs(image, undefined, ['nginx-debug']), ['/docker-entrypoint.sh', 'nginx-debug']);
  t.same(processArgs(image, ['/bin/sh', '-c'], undefined), ['/bin/sh', '-c'], 'a new entrypoint drops the image cmd');
  t.same(processArgs(image, ['/bin/sh', '-c'], ['echo hi']), ['/bin/sh', '-c', 'echo hi']);
  t.same(processEnv({ ...image, env: ['A=1', 'B=x=y'] }, { A: '2' }, 'h'), [
    'A=2',
    'B=x=y',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOSTNAME=h',
  ]);
  t.end();
});

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment
nginx:x:101:101:nginx user:/nonexistent:/bin/false
broken line
app:x:1000:1000::/home/app:/bin/sh
`;
const GROUP = `root:x:0:
nginx:x:101:
app:x:1000:
docker:x:998:app,other
video:x:44:app
`;

void t.test('user resolution', (t) => {
  t.same(resolveUser(undefined, PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [] });
  t.same(resolveUser('', PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [] });
  t.same(resolveUser('nginx', PASSWD, GROUP), { uid: 101, gid: 101, additionalGids: [] });
  t.same(resolveUser('app', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [998, 44] }, 'supplementary groups from /etc/group');
  t.same(resolveUser('1000', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [998, 44] });
  t.same(resolveUser('app:video', PASSWD, GROUP), { uid: 1000, gid: 44, additionalGids: [] }, 'an explicit group means no supplementary groups');
  t.same(resolveUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0, additionalGids: [] }, 'numeric ids need no entry');
  t.same(resolveUser('4242:4343', '', ''), { uid: 4242, gid: 4343, additionalGids: [] });
  t.throws(() => resolveUser('ghost', PASSWD, GROUP), { code: errorCode('RUNTIME_USER_UNKNOWN'), message: 'Cannot run as user "ghost": no user "ghost" in the image\'s /etc/passwd' });
  t.throws(() => resolveUser('app:ghosts', PASSWD, GROUP), { code: errorCode('RUNTIME_USER_UNKNOWN'), message: /no group "ghosts"/ });
  t.throws(() => resolveUser('99999999999', PASSWD, GROUP), { message: /out of range/ });
  t.end();
});
