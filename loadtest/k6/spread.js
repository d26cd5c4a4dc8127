// Spread: bookings spread at random over many conferences, so writers rarely meet on the same
// stream; the contrast to surge's single hot conference. The harness uses 1000 conferences; the
// default here is CONFERENCES=100 to keep setup (and teardown's per-conference audit) short.
// Capacities are large (CAPACITY per seat type, default 100000) so nothing sells out.
//
//   k6 run -e DESIGN=crud -e CONFERENCES=1000 -e PEAK_RATE=500 loadtest/k6/spread.js
//
// Each iteration reserves 1-2 seats of one seat type or of both, at a random conference.

import {
  arrivalRateScenario,
  checkIntegrity,
  createManyConferences,
  harnessRamp,
  newReservationId,
  peakRate,
  pick,
  randomSeats,
  reserve,
  scriptOptions,
} from './lib.js';

export const options = scriptOptions('spread', arrivalRateScenario(harnessRamp(peakRate())), ['reserve']);

export function setup() {
  return { conferences: createManyConferences('spread') };
}

export default function (data) {
  const conference = pick(data.conferences);
  reserve(conference.id, newReservationId(), randomSeats());
}

export function teardown(data) {
  checkIntegrity(data.conferences, { compareListing: true });
}
