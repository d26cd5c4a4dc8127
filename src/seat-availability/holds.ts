import { accepted, conflict, rejected, repeatOrConflict, seatsOf } from './decision.js';
import { unavailableSeats } from './remaining.js';
import type {
  ConfirmReservation,
  Decision,
  ExpireHold,
  HoldSeats,
  OpenConference,
  ReleaseHold,
  Reservation,
} from './types.js';

/**
 * The decisions of the checkout flow: a hold takes seats from sale until it is confirmed,
 * released or expired. Time is the command's `now`; a hold's due time is computed from it.
 */

/**
 * Takes seats from sale, all or nothing, by the same check as a reservation. Repeating it with
 * the same seats while the hold stands, or after it was confirmed, changes nothing and succeeds
 * (the first hold's due time stands, whatever `holdSeconds` the repeat asks for).
 */
export const holdSeats = (state: OpenConference, command: HoldSeats, existing: Reservation): Decision => {
  if (existing.status !== 'absent') return repeatOrConflict(existing, command, ['held', 'confirmed']);
  const unavailable = unavailableSeats(state, command.seats);
  if (unavailable) return rejected(unavailable);
  return accepted([
    {
      type: 'SeatsHeld',
      data: {
        conferenceId: state.conferenceId,
        reservationId: command.reservationId,
        seats: seatsOf(command.seats),
        heldAt: command.now,
        expiresAt: expiresAtOf(command.now, command.holdSeconds),
      },
    },
  ]);
};

/**
 * Makes a hold's seats reserved, only before its due time: once that has passed the hold is
 * lost, even while the expirer has not yet expired it. Confirming twice changes nothing and
 * succeeds. A one-step reservation, or a cancelled one, is not found as a hold, as an unknown id
 * is not: ConfirmReservation asks after a hold, and a reservation that is not (or no longer) one
 * has nothing to confirm; a released hold is the visitor's own choice, so it conflicts.
 */
export const confirmReservation = (state: OpenConference, command: ConfirmReservation, hold: Reservation): Decision => {
  const { reservationId } = command;
  switch (hold.status) {
    case 'held':
      if (isDue(command.now, hold.expiresAt)) {
        return rejected({ kind: 'hold_expired', reservationId, expiresAt: hold.expiresAt });
      }
      return accepted([
        {
          type: 'HoldConfirmed',
          data: {
            conferenceId: state.conferenceId,
            reservationId,
            seats: hold.seats,
            confirmedAt: command.now,
            attendee: command.attendee ?? null,
          },
        },
      ]);
    case 'confirmed':
      return accepted([]);
    case 'expired':
      return rejected({ kind: 'hold_expired', reservationId, expiresAt: hold.expiresAt });
    case 'released':
      return conflict(reservationId, 'released');
    case 'absent':
    case 'reserved':
    case 'cancelled':
      return rejected({ kind: 'hold_not_found', reservationId });
    default: {
      const unknown: never = hold;
      throw new Error(`Unknown reservation ${JSON.stringify(unknown)}`);
    }
  }
};

/**
 * Gives a hold's seats back, even past its due time while it has not been expired. Releasing a
 * released or an expired hold changes nothing and succeeds: its seats are back already, as the
 * visitor wished. A confirmed hold is a reservation now, given up with CancelReservation.
 */
export const releaseHold = (state: OpenConference, command: ReleaseHold, hold: Reservation): Decision => {
  const { reservationId } = command;
  switch (hold.status) {
    case 'held':
      return accepted([
        {
          type: 'HoldReleased',
          data: { conferenceId: state.conferenceId, reservationId, seats: hold.seats, releasedAt: command.now },
        },
      ]);
    case 'released':
    case 'expired':
      return accepted([]);
    case 'confirmed':
      return conflict(reservationId, 'confirmed');
    case 'absent':
    case 'reserved':
    case 'cancelled':
      return rejected({ kind: 'hold_not_found', reservationId });
    default: {
      const unknown: never = hold;
      throw new Error(`Unknown reservation ${JSON.stringify(unknown)}`);
    }
  }
};

/**
 * Gives a hold's seats back once its due time has passed. Anything else (an early expiry, a
 * hold already gone, an id that is no hold, a conference that does not exist) changes nothing
 * and succeeds: the expirer acts on what it saw earlier, so a stale or early expiry is normal,
 * and an error would only make it retry what can never apply.
 */
export const expireHold = (state: OpenConference, command: ExpireHold, hold: Reservation): Decision => {
  if (hold.status !== 'held' || !isDue(command.now, hold.expiresAt)) return accepted([]);
  return accepted([
    {
      type: 'HoldExpired',
      data: {
        conferenceId: state.conferenceId,
        reservationId: command.reservationId,
        seats: hold.seats,
        expiresAt: hold.expiresAt,
        expiredAt: command.now,
      },
    },
  ]);
};

/** Instants are compared, not strings, so ISO times with other offsets or precision compare right. */
const isDue = (now: string, expiresAt: string): boolean => Date.parse(now) >= Date.parse(expiresAt);

/** A hold's due time: `holdSeconds` after the command's `now`. */
export const expiresAtOf = (now: string, holdSeconds: number): string =>
  new Date(Date.parse(now) + holdSeconds * 1000).toISOString();
