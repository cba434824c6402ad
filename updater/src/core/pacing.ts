/**
 * Download pacing for `update.throttle.download_bps`: how long the reader waits before it
 * takes the next chunk off the socket, so the bytes taken since the request started never run
 * ahead of the rate. While the reader waits the socket's receive buffer fills and TCP closes
 * the window, so the server's sending rate follows the reader. Pure: times are parameters.
 */

/**
 * Milliseconds to wait after `bytes` have been taken `elapsedMs` after the request started,
 * at `bytesPerSecond`; 0 when the reader is behind the rate.
 */
export function pacingDelayMs(bytes: number, elapsedMs: number, bytesPerSecond: number): number {
  if (!(bytesPerSecond > 0)) return 0;
  const dueMs = (bytes / bytesPerSecond) * 1000;
  return Math.max(0, Math.ceil(dueMs - elapsedMs));
}
