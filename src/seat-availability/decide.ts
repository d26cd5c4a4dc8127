import { accepted, conflict, rejected, repeatOrConflict, seatsOf } from './decision.js';
import { confirmReservation, expireHold, holdSeats, releaseHold } from './holds.js';
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
    case 'HoldSeats':
      return state.status === 'open' ? holdSeats(state, command, reservation) : notFound(command.conferenceId);
    case 'ConfirmReservation':
      return state.status === 'open' ? confirmReservation(state, command, reservation) : notFound(command.conferenceId);
    case 'ReleaseHold':
      return state.status === 'open' ? releaseHold(state, command, reservation) : notFound(command.conferenceId);
    case 'ExpireHold':
      // At a conference that does not exist it changes nothing, like every expiry that cannot apply.
      return state.status === 'open' ? expireHold(state, command, reservation) : accepted([]);
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

/** A one-step reservation: repeated only as itself, never over a hold or a cancelled id. */
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
        attendee: command.attendee ?? null,
      },
    },
  ]);
};

/**
 * Gives up a reservation, one-step or a confirmed hold, returning its seats. Cancelling twice
 * changes nothing and succeeds. A hold still pending is released (ReleaseHold), not cancelled,
 * and one released or expired has no seats left to give back: both conflict.
 */
const cancelReservation = (state: OpenConference, command: CancelReservation, reservation: Reservation): Decision => {
  const { reservationId } = command;
  switch (reservation.status) {
    case 'absent':
      return rejected({ kind: 'reservation_not_found', reservationId });
    case 'cancelled':
      return accepted([]);
    case 'reserved':
    case 'confirmed':
      return accepted([
        {
          type: 'ReservationCancelled',
          data: { conferenceId: state.conferenceId, reservationId, seats: reservation.seats, cancelledAt: command.now },
        },
      ]);
    case 'held':
    case 'released':
    case 'expired':
      return conflict(reservationId, reservation.status);
    default: {
      const unknown: never = reservation;
      throw new Error(`Unknown reservation ${JSON.stringify(unknown)}`);
    }
  }
};
