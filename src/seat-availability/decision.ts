import type {
  ConflictReason,
  Decision,
  KnownReservation,
  Rejection,
  SeatAvailabilityEvent,
  SeatQuantity,
} from './types.js';

/** The ways `decide` answers, shared by the decisions on reservations and on holds. */

export const accepted = (events: SeatAvailabilityEvent[]): Decision => ({ kind: 'accepted', events });

export const rejected = (rejection: Rejection): Decision => ({ kind: 'rejected', rejection });

export const conflict = (reservationId: string, reason: ConflictReason): Decision =>
  rejected({ kind: 'reservation_conflict', reservationId, reason });

/**
 * A take of seats (ReserveSeats, HoldSeats) under an id already used. The reservation id is the
 * idempotency key: at a status that same take leads to (`repeatable`), the same seats are a
 * repeat that changes nothing and succeeds, and other seats conflict; any other status is itself
 * the conflict (an id is never used twice).
 */
export const repeatOrConflict = (
  existing: KnownReservation,
  take: { reservationId: string; seats: SeatQuantity[] },
  repeatable: readonly KnownReservation['status'][],
): Decision => {
  if (!repeatable.includes(existing.status)) return conflict(take.reservationId, existing.status);
  return sameSeats(existing.seats, take.seats) ? accepted([]) : conflict(take.reservationId, 'different_seats');
};

/** Two seat requests are the same when they ask for the same quantity of the same types, in any order. */
const sameSeats = (a: SeatQuantity[], b: SeatQuantity[]): boolean =>
  a.length === b.length && a.every((x) => b.some((y) => y.seatType === x.seatType && y.quantity === x.quantity));

/** The seats of a command as an event carries them: exactly the type and quantity of each. */
export const seatsOf = (seats: SeatQuantity[]): SeatQuantity[] =>
  seats.map(({ seatType, quantity }) => ({ seatType, quantity }));
