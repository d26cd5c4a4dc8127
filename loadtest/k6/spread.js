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
  createConferences,
  envNumber,
  harnessRamp,
  newReservationId,
  peakRate,
  pick,
  reserve,
  scriptOptions,
  uniqueConferenceId,
} from './lib.js';

export const options = scriptOptions('spread', arrivalRateScenario(harnessRamp(peakRate())), ['reserve']);

const SEAT_TYPES = ['standard', 'vip'];

/** 1-2 seats of one random seat type, or 1-2 seats of each. */
const seats = () => {
  const types = Math.random() < 0.5 ? [pick(SEAT_TYPES)] : SEAT_TYPES;
  return types.map((seatType) => ({ seatType, quantity: 1 + Math.floor(Math.random() * 2) }));
};

export function setup() {
  const count = Math.round(envNumber('CONFERENCES', 100));
  const capacity = Math.round(envNumber('CAPACITY', 100000));
  const run = uniqueConferenceId('spread');
  const conferences = [];
  for (let i = 0; i < count; i++) {
    conferences.push({
      id: `${run}-${i}`,
      seatTypes: SEAT_TYPES.map((type) => ({ type, capacity })),
    });
  }
  return { conferences: createConferences(conferences) };
}

export default function (data) {
  const conference = pick(data.conferences);
  reserve(conference.id, newReservationId(), seats());
}

export function teardown(data) {
  checkIntegrity(data.conferences, { compareListing: true });
}
