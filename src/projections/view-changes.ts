import type { RecordedEvent } from '../event-store/event-store.js';
import {
  toSeatAvailabilityEvent,
  type ReservationStatus,
  type SeatAvailabilityEvent,
  type SeatQuantity,
} from '../seat-availability/index.js';

/** When a reservation's status changed, by the column that records it; null where it did not. */
type StatusTimes = {
  cancelled_at: string | null;
  confirmed_at: string | null;
  released_at: string | null;
  expired_at: string | null;
};

/** A reservations view row as a reservation or a hold first writes it. */
export type ReservationRow = StatusTimes & {
  conference_id: string;
  reservation_id: string;
  seats: SeatQuantity[];
  status: ReservationStatus;
  reserved_at: string;
  expires_at: string | null;
  last_position: number;
};

/** A later status of a reservation whose row an earlier batch wrote. */
export type StatusChange = StatusTimes & {
  conference_id: string;
  reservation_id: string;
  status: ReservationStatus;
  last_position: number;
};

/**
 * What a batch of events changes in the reservations view, computed without I/O: the rows of
 * reservations and holds taken in the batch (with whatever happened to them later in it), and
 * the status changes of rows written before. Every change carries the position of the last
 * event it comes from, so applying it to a row that has already seen that event changes
 * nothing. (The remaining-seats view is computed by PostgreSQL: see remaining-seats.ts.)
 */
export type ViewChanges = { reservations: ReservationRow[]; statusChanges: StatusChange[] };

const NO_TIMES: StatusTimes = { cancelled_at: null, confirmed_at: null, released_at: null, expired_at: null };

/** Events must come in reading order (within a stream, that is version order). */
export const viewChanges = (events: RecordedEvent[]): ViewChanges => {
  const rows = new Map<string, ReservationRow>();
  const changes = new Map<string, StatusChange>();
  for (const recorded of events) {
    const event = toSeatAvailabilityEvent(recorded);
    if (event.type === 'ConferenceCreated') continue;
    const { conferenceId, reservationId } = event.data;
    const key = `${conferenceId}\u0000${reservationId}`;
    const last_position = recorded.position;
    if (event.type === 'SeatsReserved' || event.type === 'SeatsHeld') {
      rows.set(key, {
        conference_id: conferenceId,
        reservation_id: reservationId,
        ...seatsTaken(event),
        last_position,
      });
      continue;
    }
    const change = statusChange(event);
    const row = rows.get(key);
    if (row) {
      rows.set(key, { ...row, ...change, last_position });
    } else {
      const earlier = changes.get(key) ?? { conference_id: conferenceId, reservation_id: reservationId, ...NO_TIMES };
      changes.set(key, { ...earlier, ...change, last_position });
    }
  }
  return { reservations: [...rows.values()], statusChanges: [...changes.values()] };
};

/** The row's own fields, as the event that takes its seats (a reservation or a hold) writes them. */
const seatsTaken = (
  event: Extract<SeatAvailabilityEvent, { type: 'SeatsReserved' | 'SeatsHeld' }>,
): Omit<ReservationRow, 'conference_id' | 'reservation_id' | 'last_position'> =>
  event.type === 'SeatsReserved'
    ? { seats: event.data.seats, status: 'reserved', reserved_at: event.data.reservedAt, expires_at: null, ...NO_TIMES }
    : {
        seats: event.data.seats,
        status: 'held',
        reserved_at: event.data.heldAt,
        expires_at: event.data.expiresAt,
        ...NO_TIMES,
      };

/** The status an event leaves a reservation at, and the time it records it under. */
const statusChange = (
  event: Exclude<SeatAvailabilityEvent, { type: 'ConferenceCreated' | 'SeatsReserved' | 'SeatsHeld' }>,
): { status: ReservationStatus } & Partial<StatusTimes> => {
  switch (event.type) {
    case 'ReservationCancelled':
      return { status: 'cancelled', cancelled_at: event.data.cancelledAt };
    case 'HoldConfirmed':
      return { status: 'confirmed', confirmed_at: event.data.confirmedAt };
    case 'HoldReleased':
      return { status: 'released', released_at: event.data.releasedAt };
    case 'HoldExpired':
      return { status: 'expired', expired_at: event.data.expiredAt };
    default: {
      const unknown: never = event;
      throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
    }
  }
};
