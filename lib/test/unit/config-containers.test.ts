import t from 'tap';
import { loadMachineConfig } from '../../config/machine-config.ts';
import { machineConfigProblemsOf as problemsOf } from './config-errors.ts';
import { berthStateConflict, containerRisks, findCycle, normaliseBindSource, parsePort, splitCommand } from '../../config/sections/containers.ts';

void t.test('a Compose service is read and normalised', (t) => {
  const { config, warnings } = loadMachineConfig(
    `
containers:
  web:
    image: registry.example.com:5000/web:1.2
    command: httpd -f -p "8080" -h '/srv/my www'
    environment: { A: 1, B: true, C: }
    ports: ["8080:80", "127.0.0.1:53:53/udp", 9000]
    volumes: [data:/data, /var/www:/srv:ro, {type: tmpfs, target: /tmp, tmpfs: {size: 64M}}]
    tmpfs: /run
    restart: on-failure:5
    healthcheck: { test: ["CMD", "wget", "-q", "http://localhost/"], interval: 5s, retries: 2, start_period: 1s }
    depends_on: { db: { condition: service_healthy } }
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
    sysctls: ["net.core.somaxconn=1024"]
    ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 }
    mem_limit: 256M
    cpus: "0.5"
    labels: ["a.b=c"]
    extra_hosts: ["gw=10.0.0.1"]
    dns: 1.1.1.1
    x-notes: free text
    x-berth: { critical: true }
  db:
    image: db
    entrypoint: [/bin/db, --serve]
    environment: ["X=1=2"]
    healthcheck: { test: "test -e /ready" }
    network_mode: host
registries:
  "registry.example.com:5000": { insecure: true, username: deploy, password_file: /var/lib/berth/secrets/registry }
`,
    'c',
  );
  t.same(warnings.map((w) => w.path), ['containers.web.volumes[1]'], 'only: /var/www is a /var root');
  const web = config.containers.web;
  t.ok(web);
  if (web === undefined) return t.end();
  t.same(web.command, ['httpd', '-f', '-p', '8080', '-h', '/srv/my www']);
  t.same(web.environment, { A: '1', B: 'true', C: '' });
  t.same(web.ports, ['8080:80', '127.0.0.1:53:53/udp', '9000']);
  t.same(web.volumes, [
    { type: 'volume', source: 'data', target: '/data', readOnly: false },
    { type: 'bind', source: '/var/www', target: '/srv', readOnly: true },
    { type: 'tmpfs', target: '/tmp', sizeBytes: 64 * 1024 * 1024 },
    { type: 'tmpfs', target: '/run' },
  ]);
  t.equal(web.restart, 'on-failure:5');
  t.same(web.healthcheck?.test, { kind: 'exec', argv: ['wget', '-q', 'http://localhost/'] });
  t.equal(web.healthcheck?.interval, 5000);
  t.same(web.depends_on, { db: { condition: 'service_healthy' } });
  t.same(web.sysctls, { 'net.core.somaxconn': '1024' });
  t.same(web.ulimits, { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } });
  t.equal(web.mem_limit, 256 * 1024 * 1024);
  t.equal(web.cpus, 0.5);
  t.same(web.labels, { 'a.b': 'c' });
  t.same(web.extra_hosts, ['gw:10.0.0.1']);
  t.same(web.dns, ['1.1.1.1']);
  t.same(web['x-berth'], { critical: true });
  t.equal(web.network_mode, 'bridge');
  t.equal(web.stop_signal, 'SIGTERM');
  t.equal(web.stop_grace_period, 10_000);
  t.notOk('x-notes' in web);
  const db = config.containers.db;
  t.same(db?.entrypoint, ['/bin/db', '--serve']);
  t.same(db?.environment, { X: '1=2' });
  t.same(db?.healthcheck?.test, { kind: 'shell', command: 'test -e /ready' });
  t.same(db?.['x-berth'], { critical: false });
  t.same(config.registries['registry.example.com:5000'], { insecure: true, username: 'deploy', password_file: '/var/lib/berth/secrets/registry' });
  t.end();
});

void t.test('every problem is reported with its path', (t) => {
  const problems = problemsOf(`
containers:
  web:
    image: web
    imagee: typo
    build: .
    ports: ["70000:80"]
    volumes: [/etc:/etc, "data:relative", {type: volume, target: /x}]
    restart: sometimes
    network_mode: container:ghost
    depends_on: [db, web]
    healthcheck: { test: ["CMD"], interval: 5 }
  db:
    command: "unterminated 'quote"
  "bad name!":
    image: x
registries:
  reg: { username: me }
`);
  t.matchSnapshot(problems.join('\n'));
  const paths = problems.map((p) => p.slice(0, p.indexOf(': ')));
  for (const path of [
    'containers.web.imagee',
    'containers.web.build',
    'containers.web.ports[0]',
    'containers.web.volumes[0]',
    'containers.web.volumes[1]',
    'containers.web.volumes[2]',
    'containers.web.restart',
    'containers.web.healthcheck.test',
    'containers.web.healthcheck.interval',
    'containers.db',
    'containers.db.command',
    'containers["bad name!"]',
    'registries.reg.username',
  ]) {
    t.ok(paths.some((p) => p === path), `problem at ${path}`);
  }
  t.end();
});

void t.test('cross-checks: dependencies exist, no cycles, shared networks exist', (t) => {
  const missing = problemsOf('containers:\n  a: { image: x, depends_on: [ghost], network_mode: "service:nobody" }\n');
  t.match(missing.join('\n'), /containers\.a\.depends_on\.ghost: no container named "ghost"/);
  t.match(missing.join('\n'), /containers\.a\.network_mode: no container named "nobody"/);
  const cycle = problemsOf('containers:\n  a: { image: x, depends_on: [b] }\n  b: { image: x, network_mode: "container:c" }\n  c: { image: x, depends_on: { a: { condition: service_healthy } } }\n');
  t.match(cycle.join('\n'), /dependency cycle: a -> b -> c -> a/);
  const self = problemsOf('containers:\n  a: { image: x, depends_on: [a] }\n');
  t.match(self.join('\n'), /cannot depend on itself/);
  const ports = problemsOf('containers:\n  a: { image: x }\n  b: { image: x, network_mode: "container:a", ports: ["80:80"] }\n');
  t.match(ports.join('\n'), /containers\.b\.ports: ports cannot be published/);
  t.end();
});

void t.test('binds only from /var, and not into berth state', (t) => {
  t.match(problemsOf('containers:\n  a: { image: x, volumes: ["/var/lib/berth/runtime:/x"] }\n').join('\n'), /berth's own state/);
  t.match(problemsOf('containers:\n  a: { image: x, volumes: ["/var/../etc:/x"] }\n').join('\n'), /under \/var/);
  const { config } = loadMachineConfig('containers:\n  a: { image: x, volumes: ["/var/lib/berth/volumes/a:/x", "/var/data:/y"] }\n', 'c');
  t.equal(config.containers.a?.volumes.length, 2);
  t.end();
});

void t.test('no spelling of berth\'s state or of an ancestor of it is bindable', (t) => {
  const refused = ['/var//lib/berth', '/var/lib//berth/api', '/var/lib/berth/', '/var/lib/./berth/api/key.pem', '/var', '/var/', '/var/lib', '/var/log', '/var/log/', '/var/log/containers', '/var/log//containers/a.log', '/var/log/berth', '/var/lib/berth/volumes', '/'];
  for (const source of refused) {
    const problems = problemsOf(`containers:\n  web: { image: x, volumes: ["/var/data:/srv", "${source}:/x"] }\n`);
    t.equal(problems.length, 1, `${source}: one problem`);
    t.match(problems[0], /^containers\.web\.volumes\[1\]/, `${source}: names the container and the volume`);
    t.match(problems[0], source === '/' ? /under \/var/ : /berth's own state/, source);
  }
  const long = problemsOf('containers:\n  db: { image: x, volumes: [{ type: bind, source: /var/lib//berth, target: /x }] }\n');
  t.match(long.join('\n'), /containers\.db\.volumes\[0\].*"\/var\/lib\/\/berth" \(\/var\/lib\/berth\) is berth's own state/);
  t.match(problemsOf('containers:\n  a: { image: x, volumes: ["/var/data/../lib/berth:/x"] }\n').join('\n'), /without "\.\."/);
  const { config } = loadMachineConfig('containers:\n  a: { image: x, volumes: ["/var//data/./x/:/x", "/var/lib/berth/volumes/a/sub:/y", "/var/lib/berthx:/z"] }\n', 'c');
  t.same(config.containers.a?.volumes.map((v) => (v.type === 'tmpfs' ? '' : v.source)), ['/var/data/x', '/var/lib/berth/volumes/a/sub', '/var/lib/berthx'], 'normalised; neighbours by name are fine');
  t.end();
});

void t.test('berthStateConflict and normaliseBindSource', (t) => {
  t.equal(normaliseBindSource('/var//lib/./berth/'), '/var/lib/berth');
  t.equal(normaliseBindSource('/var/x/../lib'), undefined);
  t.equal(normaliseBindSource('var/x'), undefined);
  t.match(berthStateConflict('/var/lib/berth/api'), /is berth's own state \(\/var\/lib\/berth\)/);
  t.match(berthStateConflict('/var/lib'), /contains berth's own state/);
  t.match(berthStateConflict('/var/log'), /contains/);
  t.match(berthStateConflict('/'), /contains/);
  t.equal(berthStateConflict('/var/lib/berth/volumes/data'), undefined);
  t.equal(berthStateConflict('/var/www'), undefined);
  // init's V8 code cache runs in PID 1 at the next boot.
  t.match(berthStateConflict('/var/cache/berth/node-compile-cache'), /is berth's own state \(\/var\/cache\/berth\)/);
  t.match(berthStateConflict('/var/cache'), /contains berth's own state/);
  t.equal(berthStateConflict('/var/cache/nginx'), undefined);
  t.equal(berthStateConflict('/var/log/nginx'), undefined);
  t.end();
});

void t.test('risky capabilities and binds of /var roots are warned about, with their path', (t) => {
  const { warnings } = loadMachineConfig('containers:\n  a: { image: x, cap_add: [ALL, sys_admin, CAP_SYS_MODULE, SYS_PTRACE, NET_ADMIN, CHOWN], volumes: ["/var/tmp:/t", "/var/lib/mysql:/m", "/var/www/site:/w"] }\n', 'c');
  t.same(
    warnings.map((w) => w.path),
    ['containers.a.cap_add[0]', 'containers.a.cap_add[1]', 'containers.a.cap_add[2]', 'containers.a.cap_add[3]', 'containers.a.cap_add[4]', 'containers.a.volumes[0]', 'containers.a.volumes[1]'],
  );
  t.same(containerRisks({ cap_add: ['CHOWN'], volumes: [{ type: 'bind', source: '/var/data/x', target: '/x', readOnly: false }] }), []);
  t.end();
});

void t.test('privileged is warned about', (t) => {
  const { warnings } = loadMachineConfig('containers:\n  a: { image: x, privileged: true }\n', 'c');
  t.match(warnings, [{ path: 'containers.a.privileged' }]);
  t.end();
});

void t.test('parsePort, splitCommand, findCycle', (t) => {
  t.same(parsePort('8080:80'), { containerPort: 80, hostPort: 8080, protocol: 'tcp' });
  t.same(parsePort('127.0.0.1:53:53/udp'), { containerPort: 53, hostPort: 53, hostIp: '127.0.0.1', protocol: 'udp' });
  t.same(parsePort('[::1]:80:8080'), { containerPort: 8080, hostPort: 80, hostIp: '::1', protocol: 'tcp' });
  t.same(parsePort('80'), { containerPort: 80, protocol: 'tcp' });
  for (const bad of ['0:80', '80:', '1.2.3.4:80', '999.1.1.1:1:1', '80-90:80', '80/sctp']) t.equal(parsePort(bad), undefined, bad);
  t.same(splitCommand(`sh -c "echo \\"hi\\" \${X}" 'a b' c\\ d ''`), ['sh', '-c', 'echo "hi" ${X}', 'a b', 'c d', '']);
  t.equal(splitCommand('"open'), undefined);
  t.same(findCycle({ a: ['b'], b: ['c'], c: [] }), undefined);
  t.same(findCycle({ a: ['b'], b: ['a'] }), ['a', 'b', 'a']);
  t.end();
});
