import type { RecordedEvent } from '../event-store/event-store.js';
import { toSeatAvailabilityEvent, type SeatQuantity } from '../seat-availability/index.js';

/**
 * What a batch of events changes in the reservations view, computed without I/O. Every change
 * carries the position of the event it comes from, so applying it to a row that has already
 * seen that event changes nothing. (The remaining-seats view is computed by PostgreSQL: see
 * remaining-seats.ts.)
 */
export type ViewChanges = {
  reservations: {
    conference_id: string;
    reservation_id: string;
    seats: SeatQuantity[];
    status: 'reserved' | 'cancelled';
    reserved_at: string;
    cancelled_at: string | null;
    last_position: number;
  }[];
  /** Cancellations of reservations made in earlier batches (so their row exists). */
  cancellations: { conference_id: string; reservation_id: string; cancelled_at: string; last_position: number }[];
};

/** Events must come in reading order (within a stream, that is version order). */
export const viewChanges = (events: RecordedEvent[]): ViewChanges => {
  const changes: ViewChanges = { reservations: [], cancellations: [] };
  const reservations = new Map<string, ViewChanges['reservations'][number]>();

  for (const recorded of events) {
    const event = toSeatAvailabilityEvent(recorded);
    const position = recorded.position;
    const conferenceId = event.data.conferenceId;
    switch (event.type) {
      case 'ConferenceCreated':
        break;
      case 'SeatsReserved':
      case 'ReservationCancelled': {
        const key = `${conferenceId}\u0000${event.data.reservationId}`;
        if (event.type === 'SeatsReserved') {
          reservations.set(key, {
            conference_id: conferenceId,
            reservation_id: event.data.reservationId,
            seats: event.data.seats,
            status: 'reserved',
            reserved_at: event.data.reservedAt,
            cancelled_at: null,
            last_position: position,
          });
        } else {
          const reservedInBatch = reservations.get(key);
          if (reservedInBatch) {
            reservations.set(key, {
              ...reservedInBatch,
              status: 'cancelled',
              cancelled_at: event.data.cancelledAt,
              last_position: position,
            });
          } else {
            changes.cancellations.push({
              conference_id: conferenceId,
              reservation_id: event.data.reservationId,
              cancelled_at: event.data.cancelledAt,
              last_position: position,
            });
          }
        }
        break;
      }
      // The reservations view does not show holds yet. How it should (a pending hold, a confirmed
      // one, the cancel of a confirmed one, which now finds no row) is read-side work still to do.
      case 'SeatsHeld':
      case 'HoldConfirmed':
      case 'HoldReleased':
      case 'HoldExpired':
        break;
      default: {
        const unknown: never = event;
        throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
      }
    }
  }
  changes.reservations = [...reservations.values()];
  return changes;
};
