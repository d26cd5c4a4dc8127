import type { RecordedEvent } from '../event-store/event-store.js';
import { toSeatAvailabilityEvent } from '../command-handlers/seat-availability-stream.js';
import type { SeatQuantity } from '../seat-availability/index.js';

/**
 * What a batch of events changes in the views, computed without I/O. Every change carries the
 * position of the event it comes from, so applying it to a row that has already seen that
 * event changes nothing.
 */
export type ViewChanges = {
  conferences: { conference_id: string; name: string; created_at: string; last_position: number }[];
  seatTypes: { conference_id: string; seat_type: string; ordinal: number; capacity: number; last_position: number }[];
  seatDeltas: { conference_id: string; seat_type: string; position: number; delta: number }[];
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
  /** The last position of each conference touched by the batch. */
  conferencePositions: { conference_id: string; last_position: number }[];
};

/** Events must come in reading order (within a stream, that is version order). */
export const viewChanges = (events: RecordedEvent[]): ViewChanges => {
  const changes: ViewChanges = {
    conferences: [],
    seatTypes: [],
    seatDeltas: [],
    reservations: [],
    cancellations: [],
    conferencePositions: [],
  };
  const reservations = new Map<string, ViewChanges['reservations'][number]>();
  const positions = new Map<string, number>();

  for (const recorded of events) {
    const event = toSeatAvailabilityEvent(recorded);
    const position = recorded.position;
    const conferenceId = event.data.conferenceId;
    positions.set(conferenceId, Math.max(positions.get(conferenceId) ?? 0, position));
    switch (event.type) {
      case 'ConferenceCreated':
        changes.conferences.push({
          conference_id: conferenceId,
          name: event.data.name,
          created_at: event.data.createdAt,
          last_position: position,
        });
        event.data.seatTypes.forEach(({ type, capacity }, ordinal) =>
          changes.seatTypes.push({
            conference_id: conferenceId,
            seat_type: type,
            ordinal,
            capacity,
            last_position: position,
          }),
        );
        break;
      case 'SeatsReserved':
      case 'ReservationCancelled': {
        const sign = event.type === 'SeatsReserved' ? 1 : -1;
        for (const { seatType, quantity } of event.data.seats) {
          changes.seatDeltas.push({
            conference_id: conferenceId,
            seat_type: seatType,
            position,
            delta: sign * quantity,
          });
        }
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
      default: {
        const unknown: never = event;
        throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
      }
    }
  }
  changes.reservations = [...reservations.values()];
  changes.conferencePositions = [...positions].map(([conference_id, last_position]) => ({
    conference_id,
    last_position,
  }));
  return changes;
};
