import t from 'tap';
import { errorCode, isBerthError } from '../../errors.ts';
import { loadYaml } from '../../config/load.ts';
import { configErrorOf as configError } from './config-errors.ts';
import { formatPath, formatProblem, sortProblems, type Problem } from '../../config/problems.ts';
import {
  INVALID,
  array,
  boolean,
  byteSize,
  custom,
  describeValue,
  duration,
  formatByteSize,
  formatDuration,
  integer,
  literal,
  nullValue,
  number,
  object,
  oneOf,
  parseByteSize,
  parseDuration,
  record,
  string,
  union,
  unknownValue,
  validate,
  type Infer,
  type Schema,
} from '../../config/validate.ts';

// Compile-time equality of types: a wrong inference fails `tsc --noEmit`.
type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<_T extends true>(): void {}

/** Messages of every problem, for values validated without a source. */
function messages<T>(schema: Schema<T>, value: unknown): string[] {
  const result = validate(schema, value);
  return result.ok ? [] : result.problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`));
}

function valueOf<T>(schema: Schema<T>, value: unknown): T {
  const result = validate(schema, value);
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.value;
}

void t.test('the result type is inferred from the schema', (t) => {
  const service = object({
    image: string(),
    restart: oneOf(['no', 'always', 'unless-stopped']).default('no'),
    ports: array(union(integer(), string())).optional(),
    environment: record(string()).default({}),
    read_only: boolean().optional(),
    stop_grace_period: duration().default(10_000),
    mem_limit: byteSize().optional(),
    healthcheck: object({ test: union(string(), array(string())), retries: integer({ min: 0 }).default(3) }).optional(),
    dns: string().nullable().optional(),
    kind: literal('service'),
  });
  assertType<
    Equals<
      Infer<typeof service>,
      {
        image: string;
        restart: 'no' | 'always' | 'unless-stopped';
        ports?: Array<number | string>;
        environment: Record<string, string>;
        read_only?: boolean;
        stop_grace_period: number;
        mem_limit?: number;
        healthcheck?: { test: string | string[]; retries: number };
        dns?: string | null;
        kind: 'service';
      }
    >
  >();
  const extended = service.extend({ image: integer(), extra: boolean().optional() });
  assertType<Equals<Infer<typeof extended>['image'], number>>();
  assertType<Equals<Infer<typeof extended>['extra'], boolean | undefined>>();
  t.equal(valueOf(extended, { image: 8, kind: 'service' }).image, 8, 'extend() replaces a key');
  t.same(valueOf(service, { image: 'a', kind: 'service' }), {
    image: 'a',
    restart: 'no',
    environment: {},
    stop_grace_period: 10_000,
    kind: 'service',
  });
  t.end();
});

void t.test('strings: pattern over the whole string, lengths, quoting hint', (t) => {
  const name = string({ pattern: /[a-z]+/, expected: 'a lower-case name' });
  t.equal(valueOf(name, 'abc'), 'abc');
  t.same(messages(name, 'abc1'), ['expected a lower-case name but got "abc1"'], 'the pattern must match the whole string');
  t.same(messages(name, 5), ['expected a lower-case name but got 5 (put it in quotes to make it a string)']);
  t.same(messages(string(), 1.1), ['expected a string but got 1.1 (put it in quotes to make it a string)']);
  t.same(messages(string(), { a: 1 }), ['expected a string but got a mapping']);
  t.same(messages(string(), [1]), ['expected a string but got a sequence']);
  t.same(messages(string(), null), ['expected a string but got an empty value']);
  t.same(messages(string({ minLength: 1 }), ''), ['expected a string but got an empty string']);
  t.same(messages(string({ minLength: 3 }), 'ab'), ['expected at least 3 characters but got 2']);
  t.same(messages(string({ maxLength: 3 }), 'abcd'), ['expected at most 3 characters but got 4']);
  t.same(messages(string({ pattern: /^a$/g }), 'a'), [], 'a global flag does not make matching stateful');
  t.same(messages(string({ pattern: /^a$/g }), 'a'), []);
  t.same(messages(string({ pattern: /b/ }), 'x'), ['expected a string matching /b/ but got "x"']);
  t.end();
});

void t.test('enumerations and literals', (t) => {
  const restart = oneOf(['no', 'always']);
  t.equal(valueOf(restart, 'always'), 'always');
  t.same(messages(restart, 'sometimes'), ['expected one of "no", "always" but got "sometimes"']);
  t.same(messages(restart, false), ['expected one of "no", "always" but got false']);
  t.same(messages(oneOf([1, 2, 3]), 4), ['expected one of 1, 2, 3 but got 4']);
  t.same(messages(literal('v1'), 'v2'), ['expected "v1" but got "v2"']);
  t.equal(valueOf(literal(null), null), null);
  t.end();
});

void t.test('integers and numbers with ranges', (t) => {
  const port = integer({ min: 1, max: 65535 });
  t.equal(valueOf(port, 80), 80);
  t.equal(valueOf(port, 1e3), 1000);
  t.same(messages(port, 0), ['expected an integer from 1 to 65535 but got 0']);
  t.same(messages(port, 70000), ['expected an integer from 1 to 65535 but got 70000']);
  t.same(messages(port, 8.5), ['expected an integer from 1 to 65535 but got 8.5']);
  t.same(messages(port, '80'), ['expected an integer from 1 to 65535 but got "80"']);
  t.same(messages(integer({ min: 0 }), -1), ['expected an integer of at least 0 but got -1']);
  t.same(messages(integer({ max: 9 }), 10), ['expected an integer of at most 9 but got 10']);
  t.equal(valueOf(number({ min: 0.1 }), 0.5), 0.5);
  t.same(messages(number(), Number.POSITIVE_INFINITY), ['expected a number but got Infinity']);
  t.same(messages(number(), Number.NaN), ['expected a number but got NaN']);
  t.end();
});

void t.test('booleans explain YAML 1.2 yes/no', (t) => {
  t.equal(valueOf(boolean(), false), false);
  t.same(messages(boolean(), 'yes'), ['expected a boolean (true or false) but got "yes" (YAML 1.2 reads yes/no/on/off as strings)']);
  t.same(messages(boolean(), 1), ['expected a boolean (true or false) but got 1']);
  t.end();
});

void t.test('durations', (t) => {
  const table: Array<[string, number | undefined]> = [
    ['100ms', 100],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['1d', 86_400_000],
    ['1h0m5s10ms', 3_605_010],
    [' 5s ', 5000],
    ['0s', 0],
    ['0', 0],
    ['10', undefined],
    ['s', undefined],
    ['5 s', undefined],
    ['-5s', undefined],
    ['5x', undefined],
    ['1m 30s', undefined],
    ['', undefined],
  ];
  for (const [text, ms] of table) t.equal(parseDuration(text), ms, JSON.stringify(text));
  t.equal(formatDuration(5_400_000), '1h30m');
  t.equal(formatDuration(1500), '1s500ms');
  t.equal(formatDuration(0), '0s');
  for (const ms of [1, 999, 60_000, 90_061_001]) t.equal(parseDuration(formatDuration(ms)), ms, `round trip ${ms}`);

  t.equal(valueOf(duration(), '2m'), 120_000);
  t.equal(valueOf(duration(), 0), 0, 'a bare 0 needs no unit');
  t.same(messages(duration(), 10), ['expected a duration like "10s", "1m30s" or "100ms" but got 10 (add a unit, e.g. "10s")']);
  t.same(messages(duration(), 'soon'), ['expected a duration like "10s", "1m30s" or "100ms" but got "soon"']);
  t.same(messages(duration({ min: 1000, max: 60_000 }), '2m'), ['expected a duration like "10s", "1m30s" or "100ms" from 1s to 1m but got "2m"']);
  t.same(messages(duration(), true), ['expected a duration like "10s", "1m30s" or "100ms" but got true']);
  t.end();
});

void t.test('byte sizes', (t) => {
  const table: Array<[string, number | undefined]> = [
    ['256M', 256 * 1024 ** 2],
    ['5M', 5 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['1g', 1024 ** 3],
    ['512k', 512 * 1024],
    ['512KiB', 512 * 1024],
    ['512kb', 512 * 1024],
    ['1.5G', 1.5 * 1024 ** 3],
    ['2T', 2 * 1024 ** 4],
    ['4096', 4096],
    ['100b', 100],
    ['64 M', 64 * 1024 ** 2],
    ['0.5', undefined],
    ['1.0001K', undefined],
    ['-1M', undefined],
    ['1X', undefined],
    ['M', undefined],
    ['', undefined],
    ['99999999P', undefined],
  ];
  for (const [text, bytes] of table) t.equal(parseByteSize(text), bytes, JSON.stringify(text));
  t.equal(formatByteSize(256 * 1024 ** 2), '256M');
  t.equal(formatByteSize(1024 ** 3), '1G');
  t.equal(formatByteSize(1536), '1536');
  t.equal(formatByteSize(1000), '1000');

  t.equal(valueOf(byteSize(), '1G'), 1024 ** 3);
  t.equal(valueOf(byteSize(), 4096), 4096, 'a plain number is bytes');
  t.same(messages(byteSize(), -1), ['expected a size like "256M" or "1G" (or a number of bytes) but got -1']);
  t.same(messages(byteSize(), 1.5), ['expected a size like "256M" or "1G" (or a number of bytes) but got 1.5']);
  t.same(messages(byteSize({ min: 1024 ** 2 }), '4k'), ['expected a size like "256M" or "1G" (or a number of bytes) of at least 1M but got "4k"']);
  t.same(messages(byteSize({ max: 1024 ** 3 }), '2G'), ['expected a size like "256M" or "1G" (or a number of bytes) of at most 1G but got "2G"']);
  t.end();
});

void t.test('arrays', (t) => {
  const ports = array(integer(), { minItems: 1, maxItems: 2 });
  t.same(valueOf(ports, [1, 2]), [1, 2]);
  t.same(messages(ports, [1, 'x', true]), ['expected at most 2 items but got 3', '[1]: expected an integer but got "x"', '[2]: expected an integer but got true']);
  t.same(messages(ports, []), ['expected at least 1 item but got 0']);
  t.same(valueOf(array(string()), null), [], 'an empty YAML value is an empty sequence');
  t.same(messages(array(string()), 'a'), ['expected a sequence but got "a"']);
  t.end();
});

void t.test('records: arbitrary keys, optionally checked', (t) => {
  const labels = record(string(), { key: string({ pattern: /[a-z.]+/, expected: 'a label name' }) });
  t.same(valueOf(labels, { 'a.b': 'x' }), { 'a.b': 'x' });
  t.same(messages(labels, { Bad: 'x', good: 1 }), ['Bad: invalid key: expected a label name but got "Bad"', 'good: expected a string but got 1 (put it in quotes to make it a string)']);
  t.same(valueOf(record(integer()), null), {});
  t.same(messages(record(integer()), [1]), ['expected a mapping but got a sequence']);
  const proto = valueOf(record(unknownValue()), JSON.parse('{"__proto__": {"polluted": true}}'));
  t.ok(Object.hasOwn(proto, '__proto__'), '__proto__ stays a data key');
  t.equal(Object.getPrototypeOf(proto), Object.prototype);
  t.end();
});

void t.test('objects: required, optional, defaults, unknown keys', (t) => {
  const schema = object(
    {
      image: string(),
      restart: oneOf(['no', 'always']).default('no'),
      labels: record(string()).default({}),
      user: string().optional(),
    },
    { allowKeys: /^x-/, unsupported: { build: 'berth does not build images; set "image"' } },
  );
  t.same(valueOf(schema, { image: 'a', 'x-anything': { b: 1 } }), { image: 'a', restart: 'no', labels: {} }, 'allowed keys are dropped');
  t.notOk('user' in valueOf(schema, { image: 'a' }), 'an absent optional key stays absent');
  t.same(messages(schema, {}), ['missing required key "image"']);
  t.same(messages(schema, null), ['missing required key "image"'], 'an empty value is an empty mapping');
  t.same(messages(schema, 'nginx'), ['expected a mapping but got "nginx"']);
  t.same(messages(schema, { image: 'a', imagee: 'b' }), ['imagee: unknown key (did you mean "image"?)']);
  t.same(messages(schema, { image: 'a', Restart: 'no' }), ['Restart: unknown key (did you mean "restart"?)']);
  t.same(messages(schema, { image: 'a', zzz: 1 }), ['zzz: unknown key (expected one of "image", "restart", "labels", "user")']);
  t.same(messages(schema, { image: 'a', build: '.' }), ['build: not supported: berth does not build images; set "image"']);
  t.same(messages(object({}), { a: 1 }), ['a: unknown key (no keys are allowed here)']);
  const many = object(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`key${i}`, string().optional()])));
  t.same(messages(many, { other: 1 }), ['other: unknown key']);

  const first = valueOf(schema, { image: 'a' });
  first.labels.mutated = 'yes';
  t.same(valueOf(schema, { image: 'a' }).labels, {}, 'defaults are fresh copies');
  t.same(valueOf(object({ n: integer().optional() }), { n: undefined }), {}, 'undefined counts as missing');
  const partitions = object({ esp: byteSize().default(128 * 1024 ** 2), data: byteSize().optional() });
  const withDefaults = object({ partitions: partitions.default(), tags: array(string()).default(), env: record(string()).default() });
  assertType<Equals<Infer<typeof withDefaults>, { partitions: { esp: number; data?: number }; tags: string[]; env: Record<string, string> }>>();
  t.same(valueOf(withDefaults, {}), { partitions: { esp: 128 * 1024 ** 2 }, tags: [], env: {} }, 'default() without a value: what the schema makes of an empty value');
  t.throws(() => object({ image: string() }).default(), /default\(\) without a value needs a schema that accepts an empty value: missing required key "image"/);
  t.throws(() => string().default(), /expected a string but got an empty value/);
  t.end();
});

void t.test('unions pick the member that fits the kind of value', (t) => {
  const command = union(string(), array(string()));
  t.equal(valueOf(command, 'run'), 'run');
  t.same(valueOf(command, ['a', 'b']), ['a', 'b']);
  t.same(messages(command, 5), ['expected a string or a sequence but got 5']);
  t.same(messages(command, ['a', 1]), ['[1]: expected a string but got 1 (put it in quotes to make it a string)'], 'the member of the right kind explains');
  const port = union(integer({ min: 1, max: 65535 }), string({ pattern: /\d+:\d+/, expected: '"HOST:CONTAINER"' }));
  t.same(messages(port, 'x'), ['expected "HOST:CONTAINER" but got "x"']);
  t.same(messages(port, 0), ['expected an integer from 1 to 65535 but got 0']);
  const either = union(string({ pattern: /a+/ }), string({ pattern: /b+/ }));
  t.equal(valueOf(either, 'bb'), 'bb', 'a later member of the same kind may match');
  t.same(messages(either, 'c'), ['expected a string matching /a+/ but got "c"'], 'the first plausible member explains');
  t.same(messages(union(integer(), integer()), 'x'), ['expected an integer but got "x"'], 'descriptions are not repeated');
  t.equal(valueOf(string().nullable(), null), null);
  t.equal(valueOf(object({ a: integer().optional() }).nullable(), null), null, 'nullable() keeps null even where null means empty');
  t.same(valueOf(object({ a: integer().optional() }).nullable(), { a: 1 }), { a: 1 });
  t.same(messages(nullValue(), 0), ['expected an empty value but got 0']);
  t.end();
});

void t.test('refinements: messages, sub-paths, warnings', (t) => {
  const range = object({ from: integer(), to: integer() }).refine((value) =>
    value.from > value.to ? `"from" (${value.from}) must not be greater than "to" (${value.to})` : undefined,
  );
  t.same(messages(range, { from: 2, to: 1 }), ['"from" (2) must not be greater than "to" (1)']);
  t.same(messages(range, { from: 'x', to: 1 }), ['from: expected an integer but got "x"'], 'refinements run on valid values only');

  const deps = object({ services: array(string()), depends: array(string()) }).refine((value, report) => {
    for (const [index, name] of value.depends.entries()) {
      if (!value.services.includes(name)) report(`no service named "${name}"`, { path: ['depends', index] });
    }
  });
  t.same(messages(deps, { services: ['a'], depends: ['a', 'b'] }), ['depends[1]: no service named "b"']);

  const privileged = boolean().refine((value, report) => {
    if (value) report('the container gets every capability of the host', { warning: true });
  });
  const result = validate(object({ privileged: privileged.optional() }), { privileged: true });
  t.ok(result.ok, 'a warning does not invalidate');
  t.match(result.warnings, [{ path: 'privileged', message: 'the container gets every capability of the host' }]);

  const optionalRefined = string()
    .optional()
    .refine((value) => (value === 'bad' ? 'must not be "bad"' : undefined));
  const holder = object({ name: optionalRefined });
  assertType<Equals<Infer<typeof holder>, { name?: string }>>();
  t.same(valueOf(holder, {}), {}, 'refine keeps optional()');
  t.same(messages(holder, { name: 'bad' }), ['name: must not be "bad"']);
  t.end();
});

void t.test('transform and custom schemas', (t) => {
  const upper = string().transform((value) => value.toUpperCase());
  t.equal(valueOf(upper, 'abc'), 'ABC');
  const even = integer().transform((value, report) => {
    if (value % 2 !== 0) {
      report('must be even');
      return INVALID;
    }
    return value / 2;
  });
  t.equal(valueOf(even, 4), 2);
  t.same(messages(even, 3), ['must be even']);
  const described = integer().describe('a port number');
  t.same(messages(described, 'x'), ['expected a port number but got "x"']);

  const hostPort = custom(
    '"HOST:CONTAINER"',
    (value) => {
      const match = typeof value === 'string' ? /^(\d+):(\d+)$/.exec(value) : null;
      return match === null ? INVALID : { host: Number(match[1]), container: Number(match[2]) };
    },
    (value) => typeof value === 'string',
  );
  t.same(valueOf(hostPort, '80:8080'), { host: 80, container: 8080 });
  t.same(messages(hostPort, '80'), ['expected "HOST:CONTAINER" but got "80"']);
  t.same(messages(union(integer(), hostPort), true), ['expected an integer or "HOST:CONTAINER" but got true']);
  t.end();
});

void t.test('paths are printed as containers.web.ports[0]', (t) => {
  t.equal(formatPath([]), '');
  t.equal(formatPath(['containers', 'web', 'ports', 0]), 'containers.web.ports[0]');
  t.equal(formatPath([0, 'a']), '[0].a');
  t.equal(formatPath(['x-berth', 'some_key']), 'x-berth.some_key');
  t.equal(formatPath(['registries', 'registry.example.com:5000', 'insecure']), 'registries["registry.example.com:5000"].insecure');
  t.equal(formatPath(['a b', '']), '["a b"][""]');
  t.end();
});

void t.test('problems: format, order, values described', (t) => {
  const problem: Problem = { path: 'a.b', segments: ['a', 'b'], message: 'bad', line: 3, column: 7 };
  t.equal(formatProblem('config.yaml', problem), 'config.yaml:3:7: a.b: bad');
  t.equal(formatProblem('config.yaml', { ...problem, path: '' }), 'config.yaml:3:7: bad');
  t.equal(formatProblem('request body', { ...problem, line: 0, column: 0 }), 'request body: a.b: bad');
  const sorted = sortProblems([
    { ...problem, line: 0, column: 0, message: 'no position' },
    { ...problem, line: 5, column: 1, message: 'later' },
    { ...problem, line: 2, column: 9, message: 'first' },
    { ...problem, line: 5, column: 1, message: 'later, second' },
  ]);
  t.same(
    sorted.map((p) => p.message),
    ['first', 'later', 'later, second', 'no position'],
  );
  t.equal(describeValue('x'.repeat(100)), `"${'x'.repeat(57)}"...`);
  t.equal(describeValue(undefined), 'an empty value');
  t.end();
});

void t.test('validate without a source has no positions', (t) => {
  const result = validate(object({ a: integer() }), { a: 'x' });
  t.notOk(result.ok);
  if (!result.ok) t.same(result.problems, [{ path: 'a', segments: ['a'], message: 'expected an integer but got "x"', line: 0, column: 0 }]);
  t.end();
});

// A build profile, as the image builder declares it: the toolkit is generic.
const profile = object({
  version: string({ pattern: /\d+\.\d+\.\d+/, expected: 'a version like "1.2.3"' }),
  suite: oneOf(['trixie', 'bookworm']).default('trixie'),
  kernel: object({ flavour: oneOf(['cloud', 'generic']).default('cloud') }).default({ flavour: 'cloud' }),
  packages: array(string({ pattern: /[a-z0-9][a-z0-9+.-]*/, expected: 'a Debian package name' })).default([]),
  overlays: array(string()).default([]),
  node: object({ version: string({ pattern: /24\.\d+\.\d+/, expected: 'a Node 24 version like "24.11.1"' }) }),
  partitions: object({ esp: byteSize({ min: 64 * 1024 ** 2 }), root: byteSize(), data: byteSize().optional() }),
  boot: object({ timeout: duration({ max: 60_000 }).default(0) }).default({ timeout: 0 }),
});

const profileText = `version: 0.1.0
suite: trixie
kernel:
  flavour: cloud
packages:
  - crun
  - iproute2
overlays: [base, qemu]
node:
  version: "24.11.1"
partitions:
  esp: 256M
  root: 1G
boot:
  timeout: 3s
`;

void t.test('a build profile loads into typed values', (t) => {
  const { value, warnings } = loadYaml(profileText, 'image-builder/profiles/qemu.yaml', profile, { code: errorCode('PROFILE_INVALID') });
  t.same(warnings, []);
  t.same(value, {
    version: '0.1.0',
    suite: 'trixie',
    kernel: { flavour: 'cloud' },
    packages: ['crun', 'iproute2'],
    overlays: ['base', 'qemu'],
    node: { version: '24.11.1' },
    partitions: { esp: 256 * 1024 ** 2, root: 1024 ** 3 },
    boot: { timeout: 3000 },
  });
  t.end();
});

void t.test('every problem at once, with positions, in one message', (t) => {
  const text = `version: 1.10
suite: sid
kernel:
  flavor: generic
packages:
  - crun
  - Bad_Name
  - 42
node:
  version: 24.11
partitions:
  esp: 16M
  root: lots
  swap: 1G
boot:
  timeout: 5
extra: true
`;
  const error = configError(() => loadYaml(text, 'image-builder/profiles/qemu.yaml', profile, { code: errorCode('PROFILE_INVALID') }));
  t.ok(isBerthError(error, 'PROFILE_INVALID'));
  t.equal(error.source, 'image-builder/profiles/qemu.yaml');
  t.same(
    error.problems.map((p) => `${p.line}:${p.column} ${p.path}`),
    [
      '1:10 version',
      '2:8 suite',
      '4:3 kernel.flavor',
      '7:5 packages[1]',
      '8:5 packages[2]',
      '10:12 node.version',
      '12:8 partitions.esp',
      '13:9 partitions.root',
      '14:3 partitions.swap',
      '16:12 boot.timeout',
      '17:1 extra',
    ],
  );
  t.matchSnapshot(error.message, 'profile message');
  t.end();
});

void t.test('machine-config style message: unknown keys, wrong types, nested records', (t) => {
  const container = object(
    {
      image: string(),
      restart: oneOf(['no', 'always', 'on-failure', 'unless-stopped']).default('no'),
      ports: array(string({ pattern: /(\d+\.\d+\.\d+\.\d+:)?\d+:\d+(\/(tcp|udp))?/, expected: '"HOST:CONTAINER[/tcp|udp]"' })).default([]),
      environment: union(record(union(string(), number(), boolean())), array(string())).default({}),
      stop_grace_period: duration().default(10_000),
      mem_limit: byteSize().optional(),
    },
    { allowKeys: /^x-/ },
  );
  const config = object({ containers: record(container, { key: string({ pattern: /[a-z0-9][a-z0-9_.-]*/, expected: 'a container name' }) }).default({}) });
  const text = `containers:
  web:
    image: nginx
    restart: sometimes
    ports:
      - "8080:80"
      - 80
      - "8443:443/sctp"
    environment:
      A: 1
      B: [x]
    stop_grace_period: 30
    mem_limit: 256Mb
    x-notes: anything
    healthcheck: {}
  Worker:
    restart: always
`;
  const error = configError(() => loadYaml(text, 'fw_cfg:opt/berth/config', config));
  t.equal(error.code, 'CONFIG_INVALID');
  t.matchSnapshot(error.message, 'container message');
  const ok = loadYaml('containers:\n  web: {image: nginx, mem_limit: 256Mb, environment: [A=1]}\n', 'c', config).value;
  t.same(ok.containers.web, { image: 'nginx', restart: 'no', ports: [], environment: ['A=1'], stop_grace_period: 10_000, mem_limit: 256 * 1024 ** 2 });
  t.end();
});
