// Hotspot: an on-sale day. HOT_SHARE of the bookings (default 0.5) go to one hot conference, the
// rest are spread at random over CONFERENCES quiet ones (default 100; the harness uses 1000), so
// one conference's writer batches while the others' batches are grouped across conferences.
// The hot conference's reservations are tagged `conference:hot` and have a p(99) threshold of
// their own, so k6's summary shows whether the quiet traffic slows the hot conference down.
//
//   k6 run -e CONFERENCES=1000 -e PEAK_RATE=500 loadtest/k6/hotspot.js
//
// Each iteration reserves 1-2 seats of one seat type or of both.

import {
  arrivalRateScenario,
  checkIntegrity,
  createManyConferences,
  envNumber,
  harnessRamp,
  newReservationId,
  peakRate,
  pick,
  randomSeats,
  reserve,
  scriptOptions,
} from './lib.js';

const base = scriptOptions('hotspot', arrivalRateScenario(harnessRamp(peakRate())), ['reserve']);
export const options = {
  ...base,
  thresholds: {
    ...base.thresholds,
    'http_req_duration{kind:reserve,conference:hot}': base.thresholds['http_req_duration{kind:reserve}'],
  },
};

export function setup() {
  return { conferences: createManyConferences('hotspot', ['hot']) };
}

export default function (data) {
  const [hot, ...quiet] = data.conferences;
  if (Math.random() < envNumber('HOT_SHARE', 0.5))
    reserve(hot.id, newReservationId(), randomSeats(), { conference: 'hot' });
  else reserve(pick(quiet).id, newReservationId(), randomSeats(), { conference: 'quiet' });
}

export function teardown(data) {
  checkIntegrity(data.conferences, { compareListing: true });
}
