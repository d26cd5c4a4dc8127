// Checkout: one fresh conference of CAPACITY standard seats (default 2000) and visitors who check
// out the way a shop's do: each holds 1-2 seats for HOLD_SECONDS (default 3), thinks for 0.2-1.5 s
// ("pays"), then 60% confirm, 30% abandon (do nothing: the hold is left to the server's expirer)
// and 10% release. Demand is above capacity: at the defaults (PEAK_RATE 200 visitors/s for
// DURATION 30s after the ramp) about 180 seats a second are confirmed, so the conference sells out
// within the run, and from then on holds are answered 409 insufficient_seats except for the seats
// that abandoned holds return when they expire, and releases give back. Any DESIGN: the CRUD
// baselines hold seats too, and expire them by their sweeps.
//
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e PEAK_RATE=200 -e HOLD_SECONDS=3 loadtest/k6/checkout.js
//
// Metrics: holds_accepted (201), holds_sold_out (409 insufficient_seats), confirms_accepted (200),
// hold_expired (409 to a confirm at or after the due time: a visitor too slow, or a service too
// slow to answer within HOLD_SECONDS; not an unexpected answer), holds_released (200),
// holds_abandoned (visitors who walked away), requests_busy and request_errors as in the other
// scripts. Thresholds: p(99) of holds, confirms and releases under P99_MS, unexpected answers
// under ERROR_RATE, no integrity failure, and p(99) of the expiry lag under EXPIRY_P99_MS (1000).
//
// Teardown waits until every hold of the run is due (HOLD_SECONDS after the last iteration, or the
// last due time the reservations listing shows, whichever is later; k6's and the server's clocks
// are taken to agree), then reads the strong availability until no seat is held (for up to
// SETTLE_SECONDS), as the expirer should have made it: seats_held_at_end, and the integrity check
// "no seat held once every hold is due". Then the integrity check of the other scripts (reserved +
// held within capacity, the listing's reserved and confirmed seats equal to the reserved count),
// and the expiry lag of every expired hold from the listing, expiredAt - expiresAt: the Trend
// hold_expiry_lag (ms) and a line with its p50, p99 and max.

import { sleep } from 'k6';
import { Counter, Gauge, Trend } from 'k6/metrics';
import {
  arrivalRateScenario,
  checkIntegrity,
  confirmHold,
  createConferences,
  envNumber,
  expectIntegrity,
  forEachReservation,
  harnessRamp,
  hold,
  newReservationId,
  peakRate,
  releaseHold,
  scriptOptions,
  strongAvailability,
  uniqueConferenceId,
} from './lib.js';

const holdSeconds = Math.max(1, Math.round(envNumber('HOLD_SECONDS', 3)));
const THINK_MIN_SECONDS = 0.2;
const THINK_MAX_SECONDS = 1.5;

const shared = scriptOptions(
  'checkout',
  arrivalRateScenario({ ...harnessRamp(peakRate(200)), thinkSeconds: THINK_MAX_SECONDS }),
  ['hold', 'confirm', 'release'],
);
export const options = {
  ...shared,
  thresholds: { ...shared.thresholds, hold_expiry_lag: [`p(99)<${envNumber('EXPIRY_P99_MS', 1000)}`] },
};

const abandoned = new Counter('holds_abandoned');
/** Per expired hold, read at teardown: how long after its due time the server expired it (ms). */
const expiryLag = new Trend('hold_expiry_lag', true);
/** Seats held when every hold of the run is due and the expirer has had SETTLE_SECONDS: should be 0. */
const seatsHeldAtEnd = new Gauge('seats_held_at_end');

/** What a visitor does once it has thought, from a roll in [0, 1): 60% confirm, 30% abandon, 10% release. */
export const visitorChoice = (roll) => (roll < 0.6 ? 'confirm' : roll < 0.9 ? 'abandon' : 'release');

export function setup() {
  const capacity = Math.round(envNumber('CAPACITY', 2000));
  const conferences = createConferences([
    { id: uniqueConferenceId('checkout'), seatTypes: [{ type: 'standard', capacity }] },
  ]);
  return { conferences };
}

export default function (data) {
  const conferenceId = data.conferences[0].id;
  const reservationId = newReservationId();
  const seats = [{ seatType: 'standard', quantity: 1 + Math.floor(Math.random() * 2) }];
  const { outcome } = hold(conferenceId, reservationId, seats, holdSeconds);
  if (outcome !== 'accepted') return;
  sleep(THINK_MIN_SECONDS + Math.random() * (THINK_MAX_SECONDS - THINK_MIN_SECONDS));
  const choice = visitorChoice(Math.random());
  if (choice === 'confirm') confirmHold(conferenceId, reservationId);
  else if (choice === 'release') releaseHold(conferenceId, reservationId);
  else abandoned.add(1);
}

export function teardown(data) {
  const settleSeconds = envNumber('SETTLE_SECONDS', 10);
  for (const conference of data.conferences) {
    waitForLastDueTime(conference.id);
    expectNothingHeld(conference.id, settleSeconds);
  }
  checkIntegrity(data.conferences, { compareListing: true });
  for (const conference of data.conferences) reportExpiryLag(conference.id);
}

/**
 * Sleeps until every hold of the run is due: HOLD_SECONDS from now (every hold was made before
 * teardown began), or the latest due time of a pending hold in the listing if that is later.
 */
const waitForLastDueTime = (conferenceId) => {
  let lastDue = Date.now() + holdSeconds * 1000;
  forEachReservation(conferenceId, (reservation) => {
    if (reservation.status === 'held') lastDue = Math.max(lastDue, Date.parse(reservation.expiresAt));
  });
  const waitSeconds = (lastDue - Date.now()) / 1000;
  if (waitSeconds > 0) sleep(waitSeconds);
};

/** Reads the strong availability every 0.5 s until no seat is held, for up to `settleSeconds`. */
const expectNothingHeld = (conferenceId, settleSeconds) => {
  const pause = 0.5;
  const attempts = Math.ceil(settleSeconds / pause) + 1;
  let held;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) sleep(pause);
    const availability = strongAvailability(conferenceId);
    if (availability === undefined) continue;
    held = availability.seatTypes.reduce((sum, s) => sum + (s.held || 0), 0);
    if (held === 0) break;
  }
  if (held !== undefined) seatsHeldAtEnd.add(held);
  expectIntegrity(conferenceId, 'no seat held once every hold is due', held === 0, () =>
    held === undefined
      ? 'the strong availability could not be read'
      : `${held} seat(s) still held ${settleSeconds} s after the last due time`,
  );
};

/** Adds each expired hold's lateness to hold_expiry_lag and prints its p50, p99 and max. */
const reportExpiryLag = (conferenceId) => {
  const lags = [];
  let pending = 0;
  forEachReservation(conferenceId, (reservation) => {
    if (reservation.status === 'held') pending++;
    if (reservation.status !== 'expired' || !reservation.expiredAt) return;
    lags.push(Date.parse(reservation.expiredAt) - Date.parse(reservation.expiresAt));
  });
  for (const lag of lags) expiryLag.add(lag);
  lags.sort((a, b) => a - b);
  const percentile = (p) => lags[Math.max(0, Math.ceil(p * lags.length) - 1)];
  console.log(
    lags.length === 0
      ? `checkout: conference ${conferenceId}: no hold expired (${pending} still listed as held)`
      : `checkout: conference ${conferenceId}: ${lags.length} holds expired, expiredAt - expiresAt ` +
          `p50 ${percentile(0.5)} ms, p99 ${percentile(0.99)} ms, max ${lags[lags.length - 1]} ms ` +
          `(${pending} still listed as held)`,
  );
};
