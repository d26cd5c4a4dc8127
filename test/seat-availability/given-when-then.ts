import {
  decide,
  evolveAll,
  reservationIdOf,
  reservationIdOfCommand,
  reservationOf,
  type Decision,
  type Rejection,
  type SeatAvailabilityCommand,
  type SeatAvailabilityEvent,
  type SeatQuantity,
} from '../../src/seat-availability/index.js';

/** Events and commands of one conference, for the given/when/then tables of the domain's rules. */

export const now = '2026-11-21T10:00:00.000Z';
export const conferenceId = 'devconf';

export const created: SeatAvailabilityEvent = {
  type: 'ConferenceCreated',
  data: {
    conferenceId,
    name: 'DevConf',
    seatTypes: [
      { type: 'standard', capacity: 10 },
      { type: 'vip', capacity: 2 },
    ],
    createdAt: now,
  },
};
export const reserved = (reservationId: string, seats: SeatQuantity[]): SeatAvailabilityEvent => ({
  type: 'SeatsReserved',
  data: { conferenceId, reservationId, seats, reservedAt: now, attendee: null },
});
export const cancelled = (reservationId: string, seats: SeatQuantity[], at = now): SeatAvailabilityEvent => ({
  type: 'ReservationCancelled',
  data: { conferenceId, reservationId, seats, cancelledAt: at },
});

export const create: SeatAvailabilityCommand = {
  type: 'CreateConference',
  conferenceId,
  name: 'DevConf',
  seatTypes: [
    { type: 'standard', capacity: 10 },
    { type: 'vip', capacity: 2 },
  ],
  now,
};
export const reserve = (reservationId: string, seats: SeatQuantity[]): SeatAvailabilityCommand => ({
  type: 'ReserveSeats',
  conferenceId,
  reservationId,
  seats,
  now,
});
export const cancel = (reservationId: string, at = now): SeatAvailabilityCommand => ({
  type: 'CancelReservation',
  conferenceId,
  reservationId,
  now: at,
});

export const accepted = (...events: SeatAvailabilityEvent[]): Decision => ({ kind: 'accepted', events });
export const rejected = (rejection: Rejection): Decision => ({ kind: 'rejected', rejection });

export type Case = { rule: string; given: SeatAvailabilityEvent[]; when: SeatAvailabilityCommand; then: Decision };

/**
 * As the handlers do: the state is the fold of every event, the reservation the fold of the
 * events that name the command's reservation id.
 */
export const decideOn = (given: SeatAvailabilityEvent[], when: SeatAvailabilityCommand): Decision => {
  const reservationId = reservationIdOfCommand(when);
  const own = given.filter((event) => reservationId !== undefined && reservationIdOf(event) === reservationId);
  return decide(evolveAll(given), when, reservationOf(own));
};
