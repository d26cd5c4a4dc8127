import type { OpenConference, Rejection, SeatCount, SeatQuantity } from './types.js';

/** Seats of one type still on sale: neither reserved nor held. */
export const remainingOf = ({ capacity, reserved, held }: SeatCount): number => capacity - reserved - held;

/**
 * Why these seats cannot be taken, by a reservation or a hold alike, or undefined when they can:
 * every requested type must exist and, all or nothing, have enough remaining seats.
 */
export const unavailableSeats = (state: OpenConference, seats: SeatQuantity[]): Rejection | undefined => {
  const unknown = seats.filter((s) => !state.seatTypes.has(s.seatType)).map((s) => s.seatType);
  if (unknown.length > 0) return { kind: 'unknown_seat_type', seatTypes: unknown };

  const remaining = seats.map(({ seatType, quantity }) => {
    const count = state.seatTypes.get(seatType) ?? { capacity: 0, reserved: 0, held: 0 };
    return { seatType, requested: quantity, remaining: remainingOf(count) };
  });
  if (remaining.some((r) => r.requested > r.remaining)) return { kind: 'insufficient_seats', remaining };
  return undefined;
};
