/**
 * Download pacing for `update.throttle.download_bps`: how long the reader waits before it
 * takes the next chunk off the socket. While the reader waits the socket's receive buffer fills
 * and TCP closes the window, so the server's sending rate follows the reader. Pure: times are
 * parameters.
 *
 * The schedule is a virtual clock (the generic cell rate algorithm): each chunk is due
 * `bytes / rate` after the previous one. A reader that fell behind (the guest was busy, the disk
 * slow) may catch up by at most `PACING_BURST_MS` worth of bytes: credit older than that is
 * dropped. Without the cap a reader stalled for seconds would then drain the socket at full
 * speed until it was back on its schedule, and the server would see that burst as a rate above
 * the limit. With it, any interval of T seconds carries at most rate × (T + 0.5 s): within 4% of
 * the limit over 15 s. (The buffers on the way are the other source of bursts: see
 * pacedPieceBytes.)
 */

/**
 * How far behind its schedule a reader may be and still read without waiting. Half a second:
 * short stalls (a TCG guest under load has many of a few hundred ms) cost no rate, a long one
 * costs what it lasted beyond this; a whole second let a 10 s request run 8% over the limit.
 */
export const PACING_BURST_MS = 500;

/** Where a paced request stands: when the bytes taken so far were due (monotonic ms). */
export interface PacingSchedule {
  readonly dueMs: number;
}

/** The schedule of a request that starts at `nowMs`. */
export function startPacing(nowMs: number): PacingSchedule {
  return { dueMs: nowMs };
}

/**
 * After taking `bytes` more at `nowMs` at `bytesPerSecond`: the new schedule and how many
 * milliseconds to wait before reading on (0 when the reader is behind). No limit (a rate that
 * is not positive) never waits.
 */
export function pace(schedule: PacingSchedule, bytes: number, nowMs: number, bytesPerSecond: number, burstMs = PACING_BURST_MS): { schedule: PacingSchedule; delayMs: number } {
  if (!(bytesPerSecond > 0)) return { schedule, delayMs: 0 };
  const from = Math.max(schedule.dueMs, nowMs - burstMs);
  const dueMs = from + (bytes / bytesPerSecond) * 1000;
  return { schedule: { dueMs }, delayMs: Math.max(0, Math.ceil(dueMs - nowMs)) };
}

/**
 * A paced download asks for a payload in pieces (HTTP Range requests) of this many bytes: half a
 * second at the rate, between 64 KiB and 16 MiB. Whatever the socket buffers on the way (the
 * sender's, a proxy's, the guest's TCP window, ~10 MB measured under QEMU) could hold, the server
 * has only one piece to send at a time, so its sending rate follows the reader's pace from the
 * start instead of after a burst of several seconds' worth.
 */
export function pacedPieceBytes(bytesPerSecond: number): number {
  return Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(bytesPerSecond / 2)));
}
