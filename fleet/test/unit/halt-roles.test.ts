/**
 * The halt policy's arithmetic (absolute failures, the ratio of takers once enough took it, the
 * baseline after a resume) and the role checks of every route.
 */
import t from 'tap';
import { DEFAULT_HALT_POLICY, checkHaltPolicy, evaluateHalt } from '../../src/core/halt-policy.ts';
import { authorize, identityOfCommonName } from '../../src/core/roles.ts';

void t.test('the default policy halts at 2 failures', async (t) => {
  t.equal(evaluateHalt({ takers: 100, failures: 0, baseline: 0 }, DEFAULT_HALT_POLICY), undefined);
  t.equal(evaluateHalt({ takers: 100, failures: 1, baseline: 0 }, DEFAULT_HALT_POLICY), undefined);
  t.equal(evaluateHalt({ takers: 100, failures: 2, baseline: 0 }, DEFAULT_HALT_POLICY), '2 hosts rolled back (policy: halt at 2 failures; 100 took it)');
});

void t.test('the ratio applies once enough hosts took the version', async (t) => {
  const policy = { maxFailures: 10, maxFailureRatio: 0.05, minTakers: 20 };
  t.equal(evaluateHalt({ takers: 19, failures: 5, baseline: 0 }, policy), undefined, 'too few takers for the ratio');
  t.equal(evaluateHalt({ takers: 40, failures: 1, baseline: 0 }, policy), undefined, '2.5%');
  t.equal(evaluateHalt({ takers: 40, failures: 2, baseline: 0 }, policy), '2 of 40 hosts that took it rolled back (5.0% >= 5.0%)');
});

void t.test('after a resume only new failures count', async (t) => {
  t.equal(evaluateHalt({ takers: 50, failures: 3, baseline: 2 }, DEFAULT_HALT_POLICY), undefined);
  t.equal(evaluateHalt({ takers: 50, failures: 4, baseline: 2 }, DEFAULT_HALT_POLICY), '2 hosts rolled back since it was resumed (policy: halt at 2 failures; 50 took it)');
});

void t.test('a policy is checked', async (t) => {
  t.same(checkHaltPolicy({ maxFailures: 0, maxFailureRatio: 1.5, minTakers: 1.5 }, 'halt_policy'), [
    'halt_policy.max_failures: expected an integer >= 1',
    'halt_policy.max_failure_ratio: expected a number in (0, 1]',
    'halt_policy.min_takers: expected an integer >= 1',
  ]);
  t.same(checkHaltPolicy(DEFAULT_HALT_POLICY, 'p'), []);
});

void t.test('certificate names give roles', async (t) => {
  t.same(identityOfCommonName('host:n1'), { role: 'host', id: 'n1' });
  t.same(identityOfCommonName('admin:ops'), { role: 'admin', name: 'ops' });
  t.equal(identityOfCommonName('host:'), undefined);
  t.equal(identityOfCommonName('berth API CA'), undefined);
  t.equal(identityOfCommonName(undefined), undefined);
});

void t.test('a host acts only as itself; only an admin runs the fleet', async (t) => {
  const host = { role: 'host' as const, id: 'n1' };
  const adminId = { role: 'admin' as const, name: 'ops' };
  const anon = { role: 'anonymous' as const };
  for (const kind of ['lock', 'release', 'report'] as const) {
    t.same(authorize(host, { kind, id: 'n1' }, false), { allowed: true }, `${kind} as itself`);
    t.match(authorize(host, { kind, id: 'n2' }, false), { allowed: false, status: 403, kind: 'forbidden' }, `${kind} as another`);
    t.match(authorize(adminId, { kind, id: 'n1' }, false), { allowed: false, status: 403 }, `admin cannot ${kind} as a host`);
    t.match(authorize(anon, { kind, id: 'n1' }, false), { allowed: false, status: 401, kind: 'unauthenticated' });
    t.same(authorize(anon, { kind, id: 'n1' }, true), { allowed: true }, 'anonymous hosts when allowed');
  }
  for (const kind of ['read', 'unlock', 'halt', 'resume', 'set-group'] as const) {
    t.same(authorize(adminId, { kind }, false), { allowed: true });
    t.match(authorize(host, { kind }, false), { allowed: false, status: 403 });
    t.match(authorize(anon, { kind }, true), { allowed: false, status: 401 }, 'anonymous never administers');
  }
});
