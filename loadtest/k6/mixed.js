// Mixed: one conference under a realistic blend, like the harness's mixed workload: 70%
// reservations, 10% cancels of reservations this VU made (each at most once; with none to cancel
// it reserves instead) and 20% availability reads (the eventually consistent view for es).
// Capacity is CAPACITY standard seats (default 100000) and a tenth as many vip seats.
//
//   k6 run -e DESIGN=es -e PEAK_RATE=500 -e DURATION=30s loadtest/k6/mixed.js
//
// Bookings follow the harness: 70% one seat, 20% two to four, 10% one standard and one vip.

import {
  arrivalRateScenario,
  cancel,
  checkIntegrity,
  createConferences,
  envNumber,
  harnessRamp,
  newReservationId,
  peakRate,
  readAvailability,
  reserve,
  scriptOptions,
  uniqueConferenceId,
} from './lib.js';

export const options = scriptOptions('mixed', arrivalRateScenario(harnessRamp(peakRate())), [
  'reserve',
  'cancel',
  'read',
]);

/** Reservations this VU made (201) and has not cancelled yet. Each VU has its own copy. */
const cancellable = [];

const bookingSeats = () => {
  const roll = Math.random();
  if (roll < 0.7) return [{ seatType: 'standard', quantity: 1 }];
  if (roll < 0.9) return [{ seatType: 'standard', quantity: 2 + Math.floor(Math.random() * 3) }];
  return [
    { seatType: 'standard', quantity: 1 },
    { seatType: 'vip', quantity: 1 },
  ];
};

const book = (conferenceId) => {
  const reservationId = newReservationId();
  const { outcome } = reserve(conferenceId, reservationId, bookingSeats());
  if (outcome === 'accepted' || outcome === 'repeated') cancellable.push(reservationId);
};

export function setup() {
  const capacity = Math.round(envNumber('CAPACITY', 100000));
  const conferences = createConferences([
    {
      id: uniqueConferenceId('mixed'),
      seatTypes: [
        { type: 'standard', capacity },
        { type: 'vip', capacity: Math.max(1, Math.round(capacity / 10)) },
      ],
    },
  ]);
  return { conferences };
}

export default function (data) {
  const conferenceId = data.conferences[0].id;
  const roll = Math.random();
  if (roll < 0.2) {
    readAvailability(conferenceId);
    return;
  }
  if (roll < 0.3 && cancellable.length > 0) {
    const reservationId = cancellable.splice(Math.floor(Math.random() * cancellable.length), 1)[0];
    const { outcome } = cancel(conferenceId, reservationId);
    // Overloaded: the cancel did not happen, so the reservation may be cancelled later.
    if (outcome === 'busy') cancellable.push(reservationId);
    return;
  }
  book(conferenceId);
}

export function teardown(data) {
  checkIntegrity(data.conferences, { compareListing: true });
}
