/**
 * Fetching the machine config from `berth.config=<URL>` as decisions: which HTTP answers are
 * worth another try (the server or the network is not ready yet) and which are final, the
 * backoff between tries, the size cap, and the messages of each failure. Pure; config.ts
 * performs the requests.
 */
import { BerthError } from '../../../lib/errors.ts';
import type { BackoffPolicy } from '../../../lib/retry.ts';
import { urlForLog } from './config-source.ts';

export interface UrlFetchLimits {
  /** All tries together, DHCP wait excluded: then the last good config is used. */
  totalTimeoutMs: number;
  /** One request, headers and body. */
  attemptTimeoutMs: number;
  /** A machine config is a few KiB; a bigger body is not one. */
  maxBytes: number;
}

export const URL_FETCH_LIMITS: UrlFetchLimits = {
  totalTimeoutMs: 60_000,
  attemptTimeoutMs: 15_000,
  maxBytes: 1024 * 1024,
};

/** Pauses between tries (lib/retry.ts): 0.5 s doubling up to 5 s; which statuses: isRetryableStatus there. */
export const FETCH_RETRY = { initialMs: 500, maxMs: 5000, factor: 2, jitter: 0 } as const satisfies BackoffPolicy;

export function httpStatusError(url: string, status: number, statusText: string): BerthError {
  const text = statusText === '' ? '' : ` ${statusText}`;
  return new BerthError('INIT_CONFIG_URL_HTTP', `Machine config server answered HTTP ${status}${text} for ${urlForLog(url)}: check the URL in berth.config= and that the server has the file`);
}

export function tooBigError(url: string, bytes: number, maxBytes: number): BerthError {
  return new BerthError(
    'INIT_CONFIG_URL_TOO_BIG',
    `Machine config at ${urlForLog(url)} is bigger than ${maxBytes} bytes (${bytes} bytes so far): berth.config= must name a machine config, not another file`,
  );
}

export function fetchTimeoutError(url: string, totalMs: number, attempts: number, lastProblem: string): BerthError {
  return new BerthError(
    'INIT_CONFIG_URL_TIMEOUT',
    `Machine config not fetched from ${urlForLog(url)} within ${Math.round(totalMs / 1000)} s (${attempts} tries; last: ${lastProblem}): check that the host reaches the server`,
  );
}

/** Whether a declared Content-Length already exceeds the cap (absent or unparsable: read and count). */
export function isDeclaredTooBig(contentLength: string | null, maxBytes: number): boolean {
  if (contentLength === null || !/^\d+$/.test(contentLength)) return false;
  return Number(contentLength) > maxBytes;
}
