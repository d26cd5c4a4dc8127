import type { KnownReservation, Reservation, SeatAvailabilityCommand, SeatAvailabilityEvent } from './types.js';

/** Every status a reservation can stand at, as stored by the views (see `Reservation`). */
export const RESERVATION_STATUSES = ['reserved', 'cancelled', 'held', 'confirmed', 'released', 'expired'] as const;

/** Fails to compile while RESERVATION_STATUSES misses a status or names one that does not exist. */
type _EveryStatus = [KnownReservation['status']] extends [(typeof RESERVATION_STATUSES)[number]]
  ? [(typeof RESERVATION_STATUSES)[number]] extends [KnownReservation['status']]
    ? true
    : never
  : never;
const _everyStatus: _EveryStatus = true;

/** A reservation id no event has named yet. */
export const ABSENT: Reservation = { status: 'absent' };

/** The reservation id a command is about (every command but CreateConference names one). */
export const reservationIdOfCommand = (command: SeatAvailabilityCommand): string | undefined =>
  command.type === 'CreateConference' ? undefined : command.reservationId;

/** The id of the reservation an event is about; undefined for conference events. */
export const reservationIdOf = (event: SeatAvailabilityEvent): string | undefined => {
  switch (event.type) {
    case 'ConferenceCreated':
      return undefined;
    case 'SeatsReserved':
    case 'ReservationCancelled':
    case 'SeatsHeld':
    case 'HoldConfirmed':
    case 'HoldReleased':
    case 'HoldExpired':
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
      return withAttendee({ status: 'reserved', seats: event.data.seats }, event.data.attendee?.id);
    case 'ReservationCancelled':
      return withAttendee({ status: 'cancelled', seats: event.data.seats }, attendeeIdOf(reservation));
    case 'SeatsHeld':
      return { status: 'held', seats: event.data.seats, expiresAt: event.data.expiresAt };
    case 'HoldConfirmed':
      return withAttendee({ status: 'confirmed', seats: event.data.seats }, event.data.attendee?.id);
    case 'HoldReleased':
      return { status: 'released', seats: event.data.seats };
    case 'HoldExpired':
      return { status: 'expired', seats: event.data.seats, expiresAt: event.data.expiresAt };
    default: {
      const unknown: never = event;
      throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
    }
  }
};

/** The attendee a reservation names, if any (a hold names none until it is confirmed). */
export const attendeeIdOf = (reservation: Reservation): string | undefined =>
  'attendeeId' in reservation ? reservation.attendeeId : undefined;

/** A reservation that names its attendee when there is one (no `attendeeId: undefined` member). */
const withAttendee = <R extends Reservation>(reservation: R, attendeeId: string | undefined): R =>
  attendeeId === undefined ? reservation : { ...reservation, attendeeId };

/**
 * Folds events into what each reservation they name stands at, by reservation id (into `known`,
 * if given, after what it already holds).
 */
export const reservationsOf = (
  events: Iterable<SeatAvailabilityEvent>,
  known: Map<string, Reservation> = new Map(),
): Map<string, Reservation> => {
  for (const event of events) {
    const id = reservationIdOf(event);
    if (id !== undefined) known.set(id, evolveReservation(known.get(id) ?? ABSENT, event));
  }
  return known;
};

/** Folds a reservation's own events, oldest first, into what `decide` needs of it (after `from`, if given). */
export const reservationOf = (events: Iterable<SeatAvailabilityEvent>, from: Reservation = ABSENT): Reservation => {
  let reservation = from;
  for (const event of events) reservation = evolveReservation(reservation, event);
  return reservation;
};
