/**
 * Machine config section `storage`: how much of /var image pulls and layer unpacks must leave
 * free (`storage.reserve`), so berth's own state, logs and a staged update always have room.
 * Pure schema; runtime/src/core/disk-reserve.ts turns the setting into bytes.
 */
import { custom, INVALID, object, parseByteSize, type Shape } from '../validate.ts';

/** The reserve as written: a share of the filesystem (`5%`) or a size (`2G`, `0` for none). */
export type DiskReserveSetting = { percent: number } | { bytes: number };

/** The largest share of /var a reserve may claim: at 100% no image could ever be pulled. */
export const MAX_RESERVE_PERCENT = 90;

const PERCENT = /^(\d+(?:\.\d+)?)\s*%$/;
const EXPECTED = `a size like "2G" or "512M", or a share of /var like "5%" (at most ${MAX_RESERVE_PERCENT}%)`;

/** `reserve: 5%`, `reserve: 2G`, `reserve: 0` (no reserve). */
export const diskReserve = custom<DiskReserveSetting>(
  EXPECTED,
  (value, report) => {
    if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? { bytes: value } : INVALID;
    if (typeof value !== 'string') return INVALID;
    const percent = PERCENT.exec(value.trim());
    if (percent !== null) {
      const share = Number(percent[1]);
      if (share > MAX_RESERVE_PERCENT) {
        report(`a reserve of ${share}% leaves too little of /var for images; use at most ${MAX_RESERVE_PERCENT}%`);
        return INVALID;
      }
      return { percent: share };
    }
    const bytes = parseByteSize(value);
    return bytes === undefined ? INVALID : { bytes };
  },
  (value) => typeof value === 'string' || typeof value === 'number',
);

/** `storage: { reserve }`; without `reserve` the default is 10% of /var or 1 GiB, whichever is smaller. */
export const storageSection = {
  storage: object({
    reserve: diskReserve.optional(),
  }).default(),
} satisfies Shape;
