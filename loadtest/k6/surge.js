// Surge: one fresh conference, CAPACITY seats of one type, and a sharp ramp of single-seat bookings
// (open model: arrivals do not wait for answers). Mirrors the harness's sell-out phase: at the
// defaults (500/s for 30 s) about 15 times the capacity is attempted, so the conference sells out
// and the rest must be answered 409 insufficient_seats, never with an oversold seat.
//
//   k6 run -e DESIGN=es -e CAPACITY=1000 -e PEAK_RATE=500 -e DURATION=30s loadtest/k6/surge.js
//
// Metrics: reservations_accepted (201), reservations_sold_out (409), requests_busy (503),
// request_errors (anything else). Teardown cannot see the VUs' counters, so it checks the strong
// availability against the reservations listing instead, and reports seats_reserved_at_end: with
// one seat per reservation and no cancels that equals reservations_accepted in the summary (more
// only if a request timed out on our side after the server committed it).

import {
  arrivalRateScenario,
  checkIntegrity,
  createConferences,
  envNumber,
  newReservationId,
  peakRate,
  rampDuration,
  reserve,
  scriptOptions,
  uniqueConferenceId,
} from './lib.js';

const peak = peakRate();

export const options = scriptOptions(
  'surge',
  arrivalRateScenario({
    startRate: Math.min(10, peak),
    peak,
    // From 10/s to the peak within RAMP (default 2 s), then held for DURATION.
    rampStages: [{ duration: rampDuration(), target: peak }],
  }),
  ['reserve'],
);

const SEATS = [{ seatType: 'standard', quantity: 1 }];

export function setup() {
  const capacity = Math.round(envNumber('CAPACITY', 1000));
  const conferences = createConferences([
    { id: uniqueConferenceId('surge'), seatTypes: [{ type: 'standard', capacity }] },
  ]);
  return { conferences };
}

export default function (data) {
  const conference = data.conferences[0];
  reserve(conference.id, newReservationId(), SEATS);
}

export function teardown(data) {
  checkIntegrity(data.conferences, { compareListing: true });
}
