import type { SeatAvailability, SeatAvailabilityEvent, SeatQuantity, SeatCount } from './types.js';

/** The state before the stream's first event. */
export const initialState = (): SeatAvailability => ({ status: 'absent' });

/**
 * Applies one event to the state: the seat counts, never the reservations (see `Reservation`).
 * The state given is not changed.
 */
export const evolve = (state: SeatAvailability, event: SeatAvailabilityEvent): SeatAvailability => {
  switch (event.type) {
    case 'ConferenceCreated':
      return {
        status: 'open',
        conferenceId: event.data.conferenceId,
        name: event.data.name,
        seatTypes: new Map(event.data.seatTypes.map((s) => [s.type, { capacity: s.capacity, reserved: 0, held: 0 }])),
      };
    case 'SeatsReserved':
      if (state.status !== 'open') return state;
      return { ...state, seatTypes: adjustReserved(state.seatTypes, event.data.seats, +1) };
    case 'ReservationCancelled':
      if (state.status !== 'open') return state;
      return { ...state, seatTypes: adjustReserved(state.seatTypes, event.data.seats, -1) };
    default: {
      const unknown: never = event;
      throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
    }
  }
};

/** Seat counts are few (at most 20 types), so they are copied rather than shared. */
const adjustReserved = (
  seatTypes: Map<string, SeatCount>,
  seats: SeatQuantity[],
  sign: 1 | -1,
): Map<string, SeatCount> => {
  const next = new Map(seatTypes);
  for (const { seatType, quantity } of seats) {
    const count = next.get(seatType);
    if (count) next.set(seatType, { ...count, reserved: count.reserved + sign * quantity });
  }
  return next;
};

/** Folds events onto a state (the initial one unless given). */
export const evolveAll = (
  events: Iterable<SeatAvailabilityEvent>,
  state: SeatAvailability = initialState(),
): SeatAvailability => {
  let current = state;
  for (const event of events) current = evolve(current, event);
  return current;
};
