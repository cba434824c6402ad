/**
 * `berth ctl` container and image commands: argument parsing (snapshots of actions and usage
 * errors), tables and progress output (snapshots), and exit codes and output against a fake API
 * (ps, inspect, logs NAME, start/stop, exec passing the command's code through, pull on a
 * terminal, as plain lines and as NDJSON, rmi refused in use, prune).
 */
import t from 'tap';
import { ConnectError, type ApiAnswer, type ApiClient } from '../../src/ctl/client.ts';
import { formatContainers, formatImages, formatInspect, formatPullBar, formatRemoval, PullTracker, type ContainerDetailView, type ImageView } from '../../src/ctl/container-format.ts';
import { actionOrError, fakeClient as fakeTableClient, json, ndjson, runCapturing } from './ctl-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const CASES: string[][] = [
  ['ps'],
  ['containers', '--json'],
  ['inspect', 'web'],
  ['logs', 'web'],
  ['logs', 'web', '-f', '--tail', '20'],
  ['--json', 'logs', 'web', '--tail=0'],
  ['logs', '--tail', '5'],
  ['start', 'web'],
  ['stop', 'web'],
  ['restart', 'web'],
  ['exec', 'web', '--', 'sh', '-c', 'echo hi; exit 3'],
  ['exec', 'web', '--json', '--', 'ls', '--color', '-l'],
  ['images'],
  ['pull', '127.0.0.1:5000/test/web:1'],
  ['rmi', 'docker.io/library/busybox:latest'],
  ['prune'],
  ['inspect'],
  ['inspect', 'web', 'extra'],
  ['logs', 'web', 'db'],
  ['start'],
  ['exec', 'web'],
  ['exec', 'web', 'ls'],
  ['exec', '--', 'ls'],
  ['ps', '--', 'x'],
  ['status', '--', 'x'],
  ['images', 'all'],
  ['stop', 'web', '-f'],
  ['pull'],
  ['rmi'],
  ['prune', '--tail', '1'],
];

void t.test('argument parsing', async (t) => {
  const results: Record<string, unknown> = {};
  for (const argv of CASES) results[argv.join(' ')] = actionOrError(argv);
  t.matchSnapshot(results, 'actions and usage errors');
});

const NOW = new Date('2026-01-01T01:00:00Z');

const WEB: ContainerDetailView = {
  name: 'web',
  image: 'berth-test',
  state: 'running',
  health: 'healthy',
  restarts: 0,
  pid: 412,
  started_at: '2026-01-01T00:58:55.000Z',
  exit_code: null,
  critical: true,
  error: null,
  ports: [],
  network_mode: 'host',
  addresses: [],
  config: { image: 'berth-test', network_mode: 'host', restart: 'no', environment: { A: '1' } },
};
const WORKER: ContainerDetailView = { ...WEB, name: 'worker', state: 'restarting', health: null, restarts: 4, pid: null, exit_code: 3, critical: false, network_mode: 'none' };
const PUB: ContainerDetailView = { ...WEB, name: 'pub', critical: false, health: null, ports: ['8081:8080'], network_mode: 'bridge', addresses: ['10.88.0.2'] };
const STOPPED: ContainerDetailView = { ...WEB, name: 'after', state: 'stopped', health: null, critical: false, pid: null, network_mode: 'none' };

const IMAGES: ImageView[] = [
  { reference: 'docker.io/library/berth-test:latest', digest: `sha256:${'ab'.repeat(32)}`, config_digest: `sha256:${'cd'.repeat(32)}`, size_bytes: 1_300_000, created: '2026-01-01T00:00:00.000Z', preloaded: true, used_by: ['web', 'worker'] },
  { reference: '127.0.0.1:5000/test/web:1', digest: `sha256:${'ef'.repeat(32)}`, config_digest: `sha256:${'01'.repeat(32)}`, size_bytes: 2048, created: null, preloaded: false, used_by: [] },
];

void t.test('output formatting', async (t) => {
  const list = [WEB, WORKER, PUB, STOPPED].map(({ config: _config, ...rest }) => rest);
  t.matchSnapshot(formatContainers(list, NOW), 'ps table');
  t.equal(formatContainers([], NOW), 'No containers (the machine config declares none)\n');
  t.matchSnapshot(formatInspect(WEB, NOW), 'inspect');
  t.matchSnapshot(formatImages(IMAGES), 'images table');
  t.matchSnapshot(formatRemoval('Pruned', { removed_images: ['127.0.0.1:5000/test/web:1'], removed_blobs: 3, removed_layers: 1, freed_bytes: 1_572_864 }), 'prune summary');
  const tracker = new PullTracker();
  tracker.record({ event: 'progress', digest: 'sha256:c1', kind: 'config', done_bytes: 500, total_bytes: 500, status: 'done' });
  tracker.record({ event: 'progress', digest: 'sha256:l1', kind: 'layer', done_bytes: 1_000_000, total_bytes: 2_097_152, status: 'downloading' });
  t.matchSnapshot(formatPullBar('127.0.0.1:5000/test/web:1', tracker, 20), 'progress bar');
});

/** A fake client answering from a table; streamed answers arrive in two chunks split mid-line. */
const fakeClient = (answers: Record<string, ApiAnswer | Error>) => fakeTableClient(answers, { splitStreams: true });

const run = (argv: string[], client: ApiClient, isTty = false) => runCapturing(argv, client, { isTty, now: () => NOW });

const PULL_EVENTS = [
  { event: 'progress', digest: 'sha256:c1', kind: 'config', done_bytes: 500, total_bytes: 500, status: 'exists' },
  { event: 'progress', digest: 'sha256:l1', kind: 'layer', done_bytes: 0, total_bytes: 1_048_576, status: 'downloading' },
  { event: 'progress', digest: 'sha256:l1', kind: 'layer', done_bytes: 524_288, total_bytes: 1_048_576, status: 'downloading' },
  { event: 'progress', digest: 'sha256:l1', kind: 'layer', done_bytes: 1_048_576, total_bytes: 1_048_576, status: 'done' },
  { event: 'pulled', image: IMAGES[1] },
];

void t.test('exit codes and output against a fake API', async (t) => {
  const list = [WEB, WORKER].map(({ config: _config, ...rest }) => rest);
  const ps = await run(['ps'], fakeClient({ 'GET /v1/containers': json(200, { containers: list }) }));
  t.equal(ps.code, 0);
  t.match(ps.out, /^NAME\s+IMAGE\s+STATE/);
  t.same(JSON.parse((await run(['ps', '--json'], fakeClient({ 'GET /v1/containers': json(200, { containers: list }) }))).out), list, '--json: the API\'s list');

  const missing = await run(['inspect', 'nope'], fakeClient({ 'GET /v1/containers/nope': json(404, { error: { code: errorCode('RUNTIME_CONTAINER_NOT_FOUND'), message: 'No container named nope (this host runs web)' } }) }));
  t.equal(missing.code, 4, 'no such container: 4');
  t.equal(missing.err, 'berth ctl: No container named nope (this host runs web) [RUNTIME_CONTAINER_NOT_FOUND]\n');
  const noEndpoint = await run(['ps'], fakeClient({ 'GET /v1/containers': json(404, { error: { code: errorCode('API_NOT_FOUND'), message: 'No endpoint /v1/containers' } }) }));
  t.equal(noEndpoint.code, 1, 'a host without the endpoint is a failure, not a missing container');

  const records = ndjson([
    { log: 'out line\n', stream: 'stdout', time: 't' },
    { log: 'err line\n', stream: 'stderr', time: 't' },
  ]);
  const logs = await run(['logs', 'web', '--tail', '2'], fakeClient({ 'GET /v1/containers/web/logs?tail=2': records }));
  t.same([logs.code, logs.out, logs.err], [0, 'out line\n', 'err line\n'], 'stdout records to stdout, stderr records to stderr');
  const logsJson = await run(['logs', 'web', '-f', '--json'], fakeClient({ 'GET /v1/containers/web/logs?follow=1': records }));
  t.equal(logsJson.out, records.body, '--json: the records as sent');

  const stop = await run(['stop', 'web'], fakeClient({ 'POST /v1/containers/web/stop': json(200, { name: 'web', changed: true, state: 'stopped' }) }));
  t.same([stop.code, stop.out], [0, 'Stopped web (stopped)\n']);
  const startAgain = await run(['start', 'web'], fakeClient({ 'POST /v1/containers/web/start': json(200, { name: 'web', changed: false, state: 'running' }) }));
  t.equal(startAgain.out, 'web was already running (running)\n');

  const execClient = fakeClient({ 'POST /v1/containers/web/exec': json(200, { exit_code: 3, stdout: 'hi\n', stderr: 'oops\n' }) });
  const exec = await run(['exec', 'web', '--', 'sh', '-c', 'echo hi; exit 3'], execClient);
  t.same([exec.code, exec.out, exec.err], [3, 'hi\n', 'oops\n'], 'the command\'s exit code and output');
  t.same(JSON.parse(execClient.calls[0]?.options?.body ?? ''), { argv: ['sh', '-c', 'echo hi; exit 3'] });
  const notRunning = await run(['exec', 'web', '--', 'ls'], fakeClient({ 'POST /v1/containers/web/exec': json(409, { error: { code: errorCode('RUNTIME_CONTAINER_NOT_RUNNING'), message: 'Container web is not running (stopped)' } }) }));
  t.equal(notRunning.code, 125, 'exec: berth ctl\'s own failure is 125');
  const execUnreachable = await run(['exec', 'web', '--', 'ls'], fakeClient({ 'POST /v1/containers/web/exec': new ConnectError('Cannot connect') }));
  t.equal(execUnreachable.code, 125);

  const images = await run(['images'], fakeClient({ 'GET /v1/images': json(200, { images: IMAGES }) }));
  t.match(images.out, /127\.0\.0\.1:5000\/test\/web:1\s+efefefefefef\s+2\.0 KiB/);

  const pullPlain = await run(['pull', '127.0.0.1:5000/test/web:1'], fakeClient({ 'POST /v1/images/pull': ndjson(PULL_EVENTS) }));
  t.equal(pullPlain.code, 0);
  t.matchSnapshot(pullPlain.out, 'pull, not a terminal: a line per blob start and end');
  const pullTty = await run(['pull', '127.0.0.1:5000/test/web:1'], fakeClient({ 'POST /v1/images/pull': ndjson(PULL_EVENTS) }), true);
  // Control characters spelled out: a raw carriage return does not survive the snapshot file.
  t.matchSnapshot(pullTty.out.replace(/\r/g, '<CR>').replace(/\x1b/g, '<ESC>'), 'pull on a terminal: one line redrawn');
  const pullJson = await run(['pull', '127.0.0.1:5000/test/web:1', '--json'], fakeClient({ 'POST /v1/images/pull': ndjson(PULL_EVENTS) }));
  t.equal(pullJson.out, ndjson(PULL_EVENTS).body, '--json: the events as NDJSON');
  const pullFailed = await run(['pull', '127.0.0.1:5000/none:1'], fakeClient({ 'POST /v1/images/pull': ndjson([{ event: 'error', error: { code: errorCode('RUNTIME_REGISTRY_NOT_FOUND'), message: 'Cannot pull 127.0.0.1:5000/none:1: not found' } }]) }));
  t.same([pullFailed.code, pullFailed.err], [4, 'berth ctl: Cannot pull 127.0.0.1:5000/none:1: not found [RUNTIME_REGISTRY_NOT_FOUND]\n'], 'an error event fails the pull');
  const pullCut = await run(['pull', '127.0.0.1:5000/x:1'], fakeClient({ 'POST /v1/images/pull': ndjson(PULL_EVENTS.slice(0, 2)) }));
  t.same([pullCut.code, pullCut.err.includes('CTL_STREAM_ENDED')], [1, true], 'a stream without a result fails');

  const inUse = await run(['rmi', 'berth-test'], fakeClient({ 'DELETE /v1/images/berth-test': json(409, { error: { code: errorCode('RUNTIME_IMAGE_IN_USE'), message: 'Image docker.io/library/berth-test:latest is used by container web' } }) }));
  t.equal(inUse.code, 5, 'refused for its state: 5');
  const rmiClient = fakeClient({ [`DELETE /v1/images/${encodeURIComponent('127.0.0.1:5000/test/web:1')}`]: json(200, { removed_images: ['127.0.0.1:5000/test/web:1'], removed_blobs: 3, removed_layers: 1, freed_bytes: 2048 }) });
  const rmi = await run(['rmi', '127.0.0.1:5000/test/web:1'], rmiClient);
  t.same([rmi.code, rmi.out], [0, 'Removed 127.0.0.1:5000/test/web:1: removed 127.0.0.1:5000/test/web:1; 3 blobs and 1 layer deleted, 2.0 KiB freed\n']);
  const prune = await run(['prune', '--json'], fakeClient({ 'POST /v1/images/prune': json(200, { removed_images: [], removed_blobs: 0, removed_layers: 0, freed_bytes: 0 }) }));
  t.same(JSON.parse(prune.out), { removed_images: [], removed_blobs: 0, removed_layers: 0, freed_bytes: 0 });
});
