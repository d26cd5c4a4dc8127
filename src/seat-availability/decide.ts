import { ABSENT } from './reservation.js';
import type {
  CancelReservation,
  CreateConference,
  Decision,
  OpenConference,
  Rejection,
  Reservation,
  ReserveSeats,
  SeatAvailability,
  SeatAvailabilityCommand,
  SeatAvailabilityEvent,
  SeatQuantity,
} from './types.js';

/**
 * The only place where seat decisions are made. Pure: the same state, command and reservation
 * always give the same decision, and nothing is changed. `reservation` is what the command's
 * reservation id names so far (folded from that reservation's own events by `reservationOf`):
 * the state holds only the seat counts, so a repeat or a cancel is judged on it.
 */
export const decide = (
  state: SeatAvailability,
  command: SeatAvailabilityCommand,
  reservation: Reservation = ABSENT,
): Decision => {
  switch (command.type) {
    case 'CreateConference':
      return createConference(state, command);
    case 'ReserveSeats':
      return state.status === 'open' ? reserveSeats(state, command, reservation) : notFound(command.conferenceId);
    case 'CancelReservation':
      return state.status === 'open' ? cancelReservation(state, command, reservation) : notFound(command.conferenceId);
    default: {
      const unknown: never = command;
      throw new Error(`Unknown command ${JSON.stringify(unknown)}`);
    }
  }
};

const accepted = (events: SeatAvailabilityEvent[]): Decision => ({ kind: 'accepted', events });
const rejected = (rejection: Rejection): Decision => ({ kind: 'rejected', rejection });
const notFound = (conferenceId: string): Decision => rejected({ kind: 'conference_not_found', conferenceId });

const createConference = (state: SeatAvailability, command: CreateConference): Decision => {
  if (state.status === 'open') return rejected({ kind: 'conference_exists', conferenceId: command.conferenceId });
  return accepted([
    {
      type: 'ConferenceCreated',
      data: {
        conferenceId: command.conferenceId,
        name: command.name,
        seatTypes: command.seatTypes.map(({ type, capacity }) => ({ type, capacity })),
        createdAt: command.now,
      },
    },
  ]);
};

const reserveSeats = (state: OpenConference, command: ReserveSeats, existing: Reservation): Decision => {
  const { reservationId, seats } = command;
  if (existing.status === 'cancelled') {
    return rejected({ kind: 'reservation_conflict', reservationId, reason: 'cancelled' });
  }
  if (existing.status === 'reserved') {
    // The reservation id is the idempotency key: a repeat changes nothing and succeeds.
    return sameSeats(existing.seats, seats)
      ? accepted([])
      : rejected({ kind: 'reservation_conflict', reservationId, reason: 'different_seats' });
  }

  const unknown = seats.filter((s) => !state.seatTypes.has(s.seatType)).map((s) => s.seatType);
  if (unknown.length > 0) return rejected({ kind: 'unknown_seat_type', seatTypes: unknown });

  // All or nothing: every requested type must have enough remaining seats.
  const remaining = seats.map(({ seatType, quantity }) => {
    const count = state.seatTypes.get(seatType) ?? { capacity: 0, reserved: 0 };
    return { seatType, requested: quantity, remaining: count.capacity - count.reserved };
  });
  if (remaining.some((r) => r.requested > r.remaining)) return rejected({ kind: 'insufficient_seats', remaining });

  return accepted([
    {
      type: 'SeatsReserved',
      data: {
        conferenceId: state.conferenceId,
        reservationId,
        seats: seats.map(({ seatType, quantity }) => ({ seatType, quantity })),
        reservedAt: command.now,
      },
    },
  ]);
};

const cancelReservation = (state: OpenConference, command: CancelReservation, reservation: Reservation): Decision => {
  if (reservation.status === 'absent') {
    return rejected({ kind: 'reservation_not_found', reservationId: command.reservationId });
  }
  // Cancelling twice changes nothing and succeeds.
  if (reservation.status === 'cancelled') return accepted([]);
  return accepted([
    {
      type: 'ReservationCancelled',
      data: {
        conferenceId: state.conferenceId,
        reservationId: command.reservationId,
        seats: reservation.seats,
        cancelledAt: command.now,
      },
    },
  ]);
};

/** Two seat requests are the same when they ask for the same quantity of the same types, in any order. */
const sameSeats = (a: SeatQuantity[], b: SeatQuantity[]): boolean =>
  a.length === b.length && a.every((x) => b.some((y) => y.seatType === x.seatType && y.quantity === x.quantity));
