import type { Listed } from '../audit.js';
import type { KindFigures } from '../recorder.js';
import { percentiles, round } from '../stats.js';

/** p50, p99 and max in ms, and how many values they summarise. */
export type Spread = { p50: number; p99: number; max: number; count: number };

/** What a checkout phase measured, beside the figures every phase has. */
export type CheckoutFigures = {
  /** Seats of each seat type; visitors ask for `standard` only. */
  capacity: number;
  holdSeconds: number;
  /** Per second of the held load: holds granted (201), and confirms answered 200. */
  holdsPerSecond: number;
  confirmedPerSecond: number;
  /** The held part's answers by kind of request: latencies and statuses. */
  holds: KindFigures;
  confirms: KindFigures;
  releases: KindFigures;
  /** For each hold that expired, `expiredAt − expiresAt` from the reservations page, ms. */
  expiryLagMs: Spread;
  /** Seats held (all seat types), read once the last hold was due plus a few seconds: 0 when every due hold expired. */
  seatsHeldAtEnd: number;
  /** Seats the last buyer took once the load was over, where demand exceeded capacity (see buyWhatIsLeft). */
  lastBuyerSeats: number;
  /** Closed model: visitors still thinking when the load stopped (their follow-ups never sent, so their holds expired). */
  thinkingAtStop?: number;
  /** Closed model: how late follow-ups went out after their think time, ms (each waits for the next free connection). */
  followUpLateMs?: Spread;
};

/** p50, p99 and max of a list of ms (sorted in place), rounded. */
export const spreadOf = (values: number[]): Spread => {
  const { p50, p99, max, count } = percentiles(values);
  return { p50: round(p50, 1), p99: round(p99, 1), max: round(max, 1), count };
};

/**
 * The expiry lag of every expired hold: how long after its due time it was expired, from the
 * times the reservations page shows (the same for every design: for the event-sourced ones
 * `expiredAt` is the HoldExpired event's time, for the CRUD ones their sweep's).
 */
export const expiryLag = (reservations: Listed[]): Spread =>
  spreadOf(
    reservations.flatMap(({ status, expiresAt, expiredAt }) =>
      status === 'expired' && expiresAt && expiredAt ? [Date.parse(expiredAt) - Date.parse(expiresAt)] : [],
    ),
  );
