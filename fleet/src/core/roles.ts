/**
 * Who may do what: the role a client certificate names (`host:<id>` or `admin:<name>` as its
 * common name, issued by `berth keys fleet`) and the checks every route runs. Pure.
 */
import { HOST_CERT_CN_PREFIX } from '../../../lib/fleet/protocol.ts';

export type Identity =
  | { role: 'host'; id: string }
  | { role: 'admin'; name: string }
  /** No verified client certificate (only plain HTTP or a TLS client without one). */
  | { role: 'anonymous' };

/** The certificate common-name prefixes of the two roles; the host's is the agent's too (lib/fleet/protocol.ts owns it). */
export const ROLE_PREFIX = { host: HOST_CERT_CN_PREFIX, admin: 'admin:' } as const;

/** The identity a verified certificate's common name gives, or undefined when it names no role. */
export function identityOfCommonName(commonName: string | undefined): Identity | undefined {
  if (commonName === undefined) return undefined;
  if (commonName.startsWith(ROLE_PREFIX.host) && commonName.length > ROLE_PREFIX.host.length) return { role: 'host', id: commonName.slice(ROLE_PREFIX.host.length) };
  if (commonName.startsWith(ROLE_PREFIX.admin) && commonName.length > ROLE_PREFIX.admin.length) return { role: 'admin', name: commonName.slice(ROLE_PREFIX.admin.length) };
  return undefined;
}

/** Host actions act on one host id; admin actions on the fleet. */
export type Action =
  | { kind: 'lock' | 'release' | 'report'; id: string }
  | { kind: 'read' | 'unlock' | 'halt' | 'resume' | 'set-group' };

export type Verdict = { allowed: true } | { allowed: false; status: 401 | 403; kind: 'unauthenticated' | 'forbidden'; value: string };

/** Decides whether `who` may perform `action`; `allowAnonymousHosts` lets certificate-less clients (Zincati) lock, release and report. */
export function authorize(who: Identity, action: Action, allowAnonymousHosts: boolean): Verdict {
  const isHostAction = action.kind === 'lock' || action.kind === 'release' || action.kind === 'report';
  if (who.role === 'anonymous') {
    if (isHostAction && allowAnonymousHosts) return { allowed: true };
    return { allowed: false, status: 401, kind: 'unauthenticated', value: 'A client certificate issued by berth keys fleet is required' };
  }
  if (isHostAction) {
    if (who.role !== 'host') return { allowed: false, status: 403, kind: 'forbidden', value: `An admin certificate cannot ${action.kind} as a host; use the host's own certificate` };
    if (who.id !== action.id) return { allowed: false, status: 403, kind: 'forbidden', value: `Host '${who.id}' cannot ${action.kind} as '${action.id}'` };
    return { allowed: true };
  }
  if (who.role !== 'admin') return { allowed: false, status: 403, kind: 'forbidden', value: `Only an admin certificate may ${action.kind === 'read' ? 'read the fleet view' : action.kind}` };
  return { allowed: true };
}
