/**
 * The pure parts of talking to an OCI Distribution registry: URLs of manifests and blobs,
 * WWW-Authenticate challenges (RFC 7235, as Docker's token auth uses them), the token
 * request, and which failures are worth a retry. The HTTP client lives in store/registry-client.ts.
 */
import { registryApiHost, type ImageReference } from './reference.ts';
import type { BackoffPolicy } from '../../../lib/retry.ts';

/** One `WWW-Authenticate` challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header into its challenges. Parameters are `key=token` or
 * `key="quoted \" string"`; scheme names are lowercased, parameter names too.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  const isTokenChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(c);
  let current: AuthChallenge | undefined;
  let i = 0;
  const skip = (chars: string): void => {
    while (i < header.length && chars.includes(header[i] ?? '')) i += 1;
  };
  while (i < header.length) {
    skip(' \t,');
    const start = i;
    while (isTokenChar(header[i])) i += 1;
    const token = header.slice(start, i);
    if (token === '') {
      i += 1; // junk: step over it
      continue;
    }
    skip(' \t');
    if (header[i] !== '=') {
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
      continue;
    }
    i += 1;
    skip(' \t');
    let value = '';
    if (header[i] === '"') {
      i += 1;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\') i += 1;
        value += header[i] ?? '';
        i += 1;
      }
      i += 1;
    } else {
      const valueStart = i;
      while (i < header.length && header[i] !== ',' && header[i] !== ' ') i += 1;
      value = header.slice(valueStart, i);
    }
    if (current !== undefined) current.params[token.toLowerCase()] = value;
  }
  return challenges;
}

/** `https://ghcr.io`, `http://localhost:5000` (plain HTTP only where the config allows it). */
export function registryBaseUrl(registry: string, insecure: boolean): string {
  return `${insecure ? 'http' : 'https'}://${registryApiHost(registry)}`;
}

export function manifestUrl(base: string, repository: string, selector: string): string {
  return `${base}/v2/${repository}/manifests/${encodeURIComponent(selector).replace(/%3A/g, ':')}`;
}

export function blobUrl(base: string, repository: string, digest: string): string {
  return `${base}/v2/${repository}/blobs/${digest}`;
}

/** The pull scope of a repository, as token servers expect it. */
export function pullScope(reference: ImageReference): string {
  return `repository:${reference.repository}:pull`;
}

/**
 * The token request for a Bearer challenge, or undefined when the challenge has no realm
 * (or a realm that is not http(s)). The challenge's own scope wins over ours when given.
 */
export function tokenRequestUrl(challenge: AuthChallenge, scope: string): string | undefined {
  const realm = challenge.params.realm;
  if (realm === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? scope);
  return url.toString();
}

/**
 * Why berth will not send a token request to `url`, or undefined when it may: the realm a
 * registry names gets the configured credentials, so it must be https: unless the registry is
 * configured `insecure` (plain HTTP on a network the operator trusts).
 */
export function tokenRealmProblem(url: string, insecure: boolean): string | undefined {
  if (insecure || new URL(url).protocol === 'https:') return undefined;
  return `the token realm ${new URL(url).origin} is plain HTTP and would receive the credentials; a realm must be https: unless the registry is set insecure: true under registries:`;
}

/** Why a redirect from `from` to `to` is refused (HTTPS → HTTP would drop TLS midway), or undefined. */
export function redirectProblem(from: string, to: string): string | undefined {
  if (new URL(from).protocol === 'https:' && new URL(to).protocol !== 'https:') return `refusing the redirect from ${new URL(from).origin} to ${new URL(to).origin}: HTTPS → HTTP is never followed`;
  return undefined;
}

/** The token of a token-server response (`token`, or OAuth's `access_token`). */
export function tokenFromResponse(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const token = record.token ?? record.access_token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** Registry requests retry 200 ms doubling, capped at 5 s (lib/retry.ts; which statuses: isRetryableStatus there). */
export const REGISTRY_RETRY = { initialMs: 200, maxMs: 5000, factor: 2, jitter: 0 } as const satisfies BackoffPolicy;
