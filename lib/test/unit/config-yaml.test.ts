import t from 'tap';
import { errorCode, isBerthError } from '../../errors.ts';
import type { ConfigError } from '../../config/problems.ts';
import { parseYaml } from '../../config/yaml.ts';
import { configErrorOf } from './config-errors.ts';

function syntaxError(text: string, options: Parameters<typeof parseYaml>[2] = {}): ConfigError {
  return configErrorOf(() => parseYaml(text, 'config.yaml', options));
}

const compose = `# a machine config
hostname: web-1
containers:
  web:
    image: "nginx:1.27"
    ports:
      - "8080:80"
      - 443
      - target: 53
        protocol: udp
    command: [nginx, -g, 'daemon off;']
    environment: {A: 1, B: two}
    healthcheck:
      test: |
        curl -f http://localhost/
      interval: 10s
    empty:
`;

void t.test('values are plain data', (t) => {
  const doc = parseYaml(compose, 'config.yaml');
  t.same(doc.value, {
    hostname: 'web-1',
    containers: {
      web: {
        image: 'nginx:1.27',
        ports: ['8080:80', 443, { target: 53, protocol: 'udp' }],
        command: ['nginx', '-g', 'daemon off;'],
        environment: { A: 1, B: 'two' },
        healthcheck: { test: 'curl -f http://localhost/\n', interval: '10s' },
        empty: null,
      },
    },
  });
  t.equal(doc.source, 'config.yaml');
  t.end();
});

void t.test('positions of nested keys, sequence items and flow collections', (t) => {
  const doc = parseYaml(compose, 'config.yaml');
  const at = (...path: Array<string | number>) => {
    const { line, column } = doc.positionOf(path);
    return `${line}:${column}`;
  };
  t.equal(at(), '2:1', 'the root mapping starts at its first key');
  t.equal(at('hostname'), '2:11', 'a scalar value points at the value');
  t.equal(at('containers'), '3:1', 'a block mapping value points at its key');
  t.equal(at('containers', 'web'), '4:3');
  t.equal(at('containers', 'web', 'image'), '5:12', 'a quoted scalar points at its opening quote');
  t.equal(at('containers', 'web', 'ports'), '6:5', 'a block sequence value points at its key');
  t.equal(at('containers', 'web', 'ports', 0), '7:9');
  t.equal(at('containers', 'web', 'ports', 1), '8:9');
  t.equal(at('containers', 'web', 'ports', 2), '9:9', 'a mapping item points at its first key');
  t.equal(at('containers', 'web', 'ports', 2, 'protocol'), '10:19');
  t.equal(at('containers', 'web', 'command'), '11:14', 'a flow sequence points at its bracket');
  t.equal(at('containers', 'web', 'command', 2), '11:26');
  t.equal(at('containers', 'web', 'environment', 'B'), '12:28');
  t.equal(at('containers', 'web', 'healthcheck', 'test'), '14:7', 'a block scalar points at its key');
  t.equal(at('containers', 'web', 'healthcheck', 'interval'), '16:17');
  t.equal(at('containers', 'web', 'empty'), '17:5', 'an empty value points at its key');
  t.end();
});

void t.test('key positions, and missing paths fall back to the nearest ancestor', (t) => {
  const doc = parseYaml(compose, 'config.yaml');
  t.same(doc.keyPositionOf(['containers', 'web', 'image']), { line: 5, column: 5 });
  t.same(doc.keyPositionOf(['hostname']), { line: 2, column: 1 });
  t.same(doc.positionOf(['containers', 'web', 'nope', 'deeper']), { line: 4, column: 3 });
  t.same(doc.positionOf(['containers', 'web', 'ports', 9]), { line: 6, column: 5 });
  t.same(doc.positionOf(['elsewhere']), { line: 2, column: 1 });
  t.end();
});

void t.test('an empty document is null', (t) => {
  for (const text of ['', '\n\n', '# only a comment\n', '---\n', '~\n']) {
    const doc = parseYaml(text, 'c');
    t.equal(doc.value, null, JSON.stringify(text));
    t.same(doc.positionOf(['anything']), { line: 1, column: 1 });
  }
  t.end();
});

void t.test('YAML 1.2 core schema scalars', (t) => {
  const doc = parseYaml('a: yes\nb: true\nc: 0o17\nd: 1.10\ne: 8080:80\nf: null\ng: !!str 12\nh: 012\n', 'c');
  t.same(doc.value, { a: 'yes', b: true, c: 15, d: 1.1, e: '8080:80', f: null, g: '12', h: 12 });
  t.end();
});

void t.test('keys are strings as written', (t) => {
  const doc = parseYaml('80: a\ntrue: b\n~: c\n"quoted key": d\n', 'c');
  t.same(Object.keys(doc.value as object), ['80', 'true', '~', 'quoted key']);
  t.end();
});

void t.test('a __proto__ key is data, not a prototype', (t) => {
  const doc = parseYaml('__proto__: {polluted: true}\n', 'c');
  const value = doc.value as Record<string, unknown>;
  t.ok(Object.hasOwn(value, '__proto__'));
  t.equal(Object.getPrototypeOf(value), Object.prototype);
  t.equal((value as { polluted?: unknown }).polluted, undefined);
  t.end();
});

void t.test('anchors and aliases: positions under an alias point at the anchored node', (t) => {
  const doc = parseYaml('base: &b\n  image: busybox\n  restart: always\nweb: *b\n', 'c');
  t.same(doc.value, { base: { image: 'busybox', restart: 'always' }, web: { image: 'busybox', restart: 'always' } });
  t.same(doc.positionOf(['web']), { line: 4, column: 6 }, 'the alias itself');
  t.same(doc.positionOf(['web', 'restart']), { line: 3, column: 12 }, 'inside the alias: the anchored definition');
  t.end();
});

void t.test('merge keys, as Compose files use them', (t) => {
  const text = [
    'x-defaults: &defaults',
    '  restart: always',
    '  image: busybox',
    'x-more: &more',
    '  user: nobody',
    '  restart: no',
    'web:',
    '  <<: [*defaults, *more]',
    '  image: nginx',
    'db:',
    '  <<: *defaults',
    '',
  ].join('\n');
  const doc = parseYaml(text, 'c');
  const value = doc.value as Record<string, unknown>;
  t.same(value.web, { image: 'nginx', restart: 'always', user: 'nobody' }, 'explicit keys win, then earlier sources');
  t.same(value.db, { restart: 'always', image: 'busybox' });
  t.same(doc.positionOf(['web', 'image']), { line: 9, column: 10 });
  t.same(doc.positionOf(['web', 'restart']), { line: 2, column: 12 }, 'a merged key points at its definition');
  t.same(doc.positionOf(['web', 'user']), { line: 5, column: 9 });
  t.same(doc.positionOf(['db', 'image']), { line: 3, column: 10 });
  t.same(parseYaml('a: {"<<": 1}', 'c').value, { a: { '<<': 1 } }, 'a quoted "<<" is an ordinary key');
  t.match(syntaxError('a:\n  <<: 5\n').problems[0], { line: 2, column: 3, message: /merge key "<<" takes a mapping/ });
  t.end();
});

void t.test('syntax errors become CONFIG_INVALID naming source:line:column', (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['a: [1, 2', '1:9', /unexpected end of the stream within a flow collection/],
    ['a: [1, 2\n', '2:1', /deficient indentation/],
    ['a:\n  b: 1\n c: 2\n', '3:2', /bad indentation/],
    ['a: 1\na: 2\n', '2:1', /duplicated mapping key/],
    ['a: "open', '1:9', /double quoted scalar/],
    ['a: !custom 1\n', '1:4', /unknown scalar tag/],
    ['a: *nowhere\n', '1:5', /unidentified alias "nowhere"/],
    ['1: a\n"1": b\n', '2:1', /duplicated mapping key "1"/],
    ['? [a, b]\n: 1\n', '1:3', /mapping keys must be plain strings/],
    ['a: 1\n---\nb: 2\n', '3:1', /expected one YAML document but found 2/],
  ];
  for (const [text, where, message] of cases) {
    const error = syntaxError(text);
    t.ok(isBerthError(error, 'CONFIG_INVALID'), JSON.stringify(text));
    t.equal(error.problems.length, 1);
    const problem = error.problems[0];
    t.equal(`${problem?.line}:${problem?.column}`, where, JSON.stringify(text));
    t.match(problem?.message, message);
    t.equal(problem?.path, '');
    t.match(error.message, new RegExp(`\\nconfig\\.yaml:${where}: `));
  }
  t.end();
});

void t.test('the error code can be chosen (build profiles)', (t) => {
  t.equal(syntaxError('a: [', { code: errorCode('PROFILE_INVALID') }).code, 'PROFILE_INVALID');
  t.end();
});

void t.test('recursive aliases are refused', (t) => {
  t.match(syntaxError('a: &x [1, *x]\n').problems[0], { line: 1, column: 11, message: /refers to a node that contains it/ });
  t.end();
});

void t.test('alias expansion is bounded (billion laughs)', (t) => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let level = 1; level < 8; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
  }
  const error = syntaxError(lines.join('\n'));
  t.match(error.problems[0]?.message, /expands to more than 100000 values/);
  t.ok(parseYaml(lines.slice(0, 3).join('\n'), 'c'), 'moderate reuse is fine');
  t.match(syntaxError(lines.slice(0, 3).join('\n'), { maxValues: 50 }).problems[0]?.message, /more than 50 values/);
  t.end();
});

void t.test('CRLF line ends and a byte-order mark do not shift positions', (t) => {
  const doc = parseYaml('\uFEFFa: 1\r\nb:\r\n  c: "x"\r\n', 'c');
  t.same(doc.value, { a: 1, b: { c: 'x' } });
  t.same(doc.positionOf(['a']), { line: 1, column: 4 });
  t.same(doc.positionOf(['b', 'c']), { line: 3, column: 6 });
  t.end();
});
