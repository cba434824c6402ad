/**
 * lib/fleet/protocol.ts: Zincati's FleetLock bodies and header as it sends them, the error
 * body, berth's host report and halt refusal, each validator reporting every problem with its path.
 */
import t from 'tap';
import {
  FLEETLOCK_ROUTES,
  haltRefusal,
  hasFleetLockHeader,
  parseFleetLockError,
  parseFleetLockRequest,
  parseHaltRefusal,
  parseHostReport,
} from '../../fleet/protocol.ts';

void t.test('the body Zincati sends parses, with its keys in either order', async (t) => {
  // Zincati serialises group before id (serde field order of its ClientParams).
  const zincati = JSON.parse('{"client_params":{"group":"default","id":"c988d2509fdf5cdcbed39037c56406fb"}}') as unknown;
  t.same(parseFleetLockRequest(zincati), { ok: true, value: { client_params: { id: 'c988d2509fdf5cdcbed39037c56406fb', group: 'default' } } });
  t.same(FLEETLOCK_ROUTES, { preReboot: '/v1/pre-reboot', steadyState: '/v1/steady-state' });
});

void t.test('bad FleetLock bodies name every problem', async (t) => {
  const result = parseFleetLockRequest({ client_params: { id: '', group: 'not valid!' } });
  t.same(result, { ok: false, problems: ["client_params.id: expected a non-empty string, got ''", "client_params.group: 'not valid!' must match ^[a-zA-Z0-9.-]+$"] });
  t.match(parseFleetLockRequest([]), { ok: false, problems: [/^body: expected a JSON object/] });
  t.match(parseFleetLockRequest({}), { ok: false, problems: [/^client_params: expected an object/] });
  t.match(parseFleetLockRequest({ client_params: { id: 'a/b', group: 'g' } }), { ok: false, problems: [/client_params.id: must not contain/] });
  t.match(parseFleetLockRequest({ client_params: { id: 'x'.repeat(129), group: 'g' } }), { ok: false, problems: [/longer than 128/] });
  // An extra key in client_params from a newer client is tolerated.
  t.match(parseFleetLockRequest({ client_params: { id: 'n1', group: 'g', zone: 'z' } }), { ok: true, value: { client_params: { id: 'n1', group: 'g' } } });
});

void t.test('the protocol header must be exactly true', async (t) => {
  t.equal(hasFleetLockHeader('true'), true);
  t.equal(hasFleetLockHeader(['true']), true);
  t.equal(hasFleetLockHeader('TRUE '), true);
  t.equal(hasFleetLockHeader('false'), false);
  t.equal(hasFleetLockHeader('1'), false);
  t.equal(hasFleetLockHeader(undefined), false);
  t.equal(hasFleetLockHeader(null), false);
});

void t.test('error bodies: kind and value, non-empty', async (t) => {
  t.same(parseFleetLockError({ kind: 'failed_lock_semaphore_full', value: 'semaphore currently full' }), { ok: true, value: { kind: 'failed_lock_semaphore_full', value: 'semaphore currently full' } });
  t.same(parseFleetLockError({ kind: '', value: 1 }), { ok: false, problems: ["kind: expected a non-empty string, got ''", 'value: expected a non-empty string, got number'] });
});

const status = { version: '1.2.0', slot: 'a', phase: 'staged', target_version: '1.3.0', bad_versions: ['1.1.0'], rollbacks: 1, last_error: { code: 'UPDATER_X', message: 'm' } };

void t.test('host reports parse and reject unknown keys', async (t) => {
  t.same(parseHostReport({ client_params: { id: 'h1', group: 'web' }, status }), { ok: true, value: { client_params: { id: 'h1', group: 'web' }, status } });
  const bad = parseHostReport({ client_params: { id: 'h1', group: 'web' }, extra: 1, status: { ...status, slot: 'c', phase: 'sleeping', rollbacks: -1, bad_versions: ['ok', ''], colour: 'red' } });
  t.same(bad, {
    ok: false,
    problems: [
      'extra: unknown key (expected client_params, status)',
      'status.colour: unknown key (expected version, slot, phase, target_version, bad_versions, rollbacks, last_error)',
      "status.slot: expected 'a' or 'b', got 'c'",
      "status.phase: expected one of idle, checking, downloading, verifying, staged, rebooting, confirming, succeeded, rolled-back, failed, got 'sleeping'",
      "status.bad_versions[1]: expected a non-empty version string, got ''",
      'status.rollbacks: expected a non-negative integer, got number',
    ],
  });
});

void t.test('a halt refusal round-trips and other errors are not one', async (t) => {
  const body = haltRefusal({ version: '1.3.0', reason: '2 hosts rolled back', by: 'policy', since: '2026-12-04T21:00:00.000Z' });
  t.equal(body.value, 'Version 1.3.0 is halted: 2 hosts rolled back');
  t.same(parseHaltRefusal(JSON.parse(JSON.stringify(body))), { ok: true, value: body });
  t.match(parseHaltRefusal({ kind: 'failed_lock_semaphore_full', value: 'full' }), { ok: false, problems: [/kind: expected 'version_halted'/, /halt: expected an object/] });
  t.match(parseHaltRefusal({ kind: 'version_halted', value: 'v', halt: { version: '1', reason: 'r', by: 'someone', since: 'never' } }), { ok: false, problems: [/halt.by/, /halt.since/] });
});
