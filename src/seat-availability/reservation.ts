import type { Reservation, SeatAvailabilityEvent } from './types.js';

/** A reservation id no event has named yet. */
export const ABSENT: Reservation = { status: 'absent' };

/** The id of the reservation an event is about; undefined for conference events. */
export const reservationIdOf = (event: SeatAvailabilityEvent): string | undefined => {
  switch (event.type) {
    case 'ConferenceCreated':
      return undefined;
    case 'SeatsReserved':
    case 'ReservationCancelled':
      return event.data.reservationId;
    default: {
      const unknown: never = event;
      throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
    }
  }
};

/** Applies one of the reservation's own events to what is known of it. */
export const evolveReservation = (reservation: Reservation, event: SeatAvailabilityEvent): Reservation => {
  switch (event.type) {
    case 'ConferenceCreated':
      return reservation;
    case 'SeatsReserved':
      return { status: 'reserved', seats: event.data.seats };
    case 'ReservationCancelled':
      return { status: 'cancelled', seats: event.data.seats };
    default: {
      const unknown: never = event;
      throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
    }
  }
};

/** Folds a reservation's own events, oldest first, into what `decide` needs of it (after `from`, if given). */
export const reservationOf = (events: Iterable<SeatAvailabilityEvent>, from: Reservation = ABSENT): Reservation => {
  let reservation = from;
  for (const event of events) reservation = evolveReservation(reservation, event);
  return reservation;
};
