import { accepted, rejected, repeatOrConflict, seatsOf } from './decision.js';
import { ABSENT } from './reservation.js';
import { unavailableSeats } from './remaining.js';
import type {
  CancelReservation,
  CreateConference,
  Decision,
  OpenConference,
  Reservation,
  ReserveSeats,
  SeatAvailability,
  SeatAvailabilityCommand,
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

/** A one-step reservation: repeated only as itself, never over a cancelled id. */
const reserveSeats = (state: OpenConference, command: ReserveSeats, existing: Reservation): Decision => {
  if (existing.status !== 'absent') return repeatOrConflict(existing, command, ['reserved']);
  const unavailable = unavailableSeats(state, command.seats);
  if (unavailable) return rejected(unavailable);
  return accepted([
    {
      type: 'SeatsReserved',
      data: {
        conferenceId: state.conferenceId,
        reservationId: command.reservationId,
        seats: seatsOf(command.seats),
        reservedAt: command.now,
      },
    },
  ]);
};

/** Gives up a reservation, returning its seats. Cancelling twice changes nothing and succeeds. */
const cancelReservation = (state: OpenConference, command: CancelReservation, reservation: Reservation): Decision => {
  const { reservationId } = command;
  switch (reservation.status) {
    case 'absent':
      return rejected({ kind: 'reservation_not_found', reservationId });
    case 'cancelled':
      return accepted([]);
    case 'reserved':
      return accepted([
        {
          type: 'ReservationCancelled',
          data: { conferenceId: state.conferenceId, reservationId, seats: reservation.seats, cancelledAt: command.now },
        },
      ]);
    default: {
      const unknown: never = reservation;
      throw new Error(`Unknown reservation ${JSON.stringify(unknown)}`);
    }
  }
};
