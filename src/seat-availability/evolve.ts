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
      return moveSeats(state, event.data.seats, { reserved: +1 });
    case 'ReservationCancelled':
      // Of a one-step reservation and of a confirmed hold alike: both are reserved seats.
      return moveSeats(state, event.data.seats, { reserved: -1 });
    case 'SeatsHeld':
      return moveSeats(state, event.data.seats, { held: +1 });
    case 'HoldConfirmed':
      return moveSeats(state, event.data.seats, { held: -1, reserved: +1 });
    case 'HoldReleased':
    case 'HoldExpired':
      return moveSeats(state, event.data.seats, { held: -1 });
    default: {
      const unknown: never = event;
      throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
    }
  }
};

/** Which counts each seat of an event is added to (+1) or taken from (-1). */
type Move = { reserved?: 1 | -1; held?: 1 | -1 };

/** Seat counts are few (at most 20 types), so they are copied rather than shared. */
const moveSeats = (state: SeatAvailability, seats: SeatQuantity[], move: Move): SeatAvailability => {
  if (state.status !== 'open') return state;
  const next = new Map<string, SeatCount>(state.seatTypes);
  for (const { seatType, quantity } of seats) {
    const count = next.get(seatType);
    if (count) {
      next.set(seatType, {
        ...count,
        reserved: count.reserved + (move.reserved ?? 0) * quantity,
        held: count.held + (move.held ?? 0) * quantity,
      });
    }
  }
  return { ...state, seatTypes: next };
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
