import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/event-store/event-store.js';
import { viewChanges } from '../../src/projections/view-changes.js';

const at = '2026-11-21T10:00:00.000Z';
/** An event as the store would hand it, at the position each test gives it. */
const recorded = (position: number, type: string, data: Record<string, unknown>): RecordedEvent => ({
  position,
  streamId: 'seat-availability-c',
  streamVersion: position,
  type,
  data: { conferenceId: 'c', ...data },
  metadata: {},
  recordedAt: new Date(at),
});
const seats = [{ seatType: 'standard', quantity: 2 }];

describe('view changes of a batch', () => {
  it('folds a reservation made and cancelled in one batch into one cancelled row', () => {
    const changes = viewChanges([
      recorded(1, 'SeatsReserved', { reservationId: 'r1', seats, reservedAt: at }),
      recorded(2, 'ReservationCancelled', { reservationId: 'r1', seats, cancelledAt: at }),
    ]);
    expect(changes.reservations).toEqual([
      expect.objectContaining({ reservation_id: 'r1', status: 'cancelled', reserved_at: at, cancelled_at: at }),
    ]);
    expect(changes.cancellations).toEqual([]);
  });

  it('turns the cancel of an earlier reservation into an update of its row', () => {
    const changes = viewChanges([recorded(7, 'ReservationCancelled', { reservationId: 'r0', seats, cancelledAt: at })]);
    expect(changes.reservations).toEqual([]);
    expect(changes.cancellations).toEqual([
      { conference_id: 'c', reservation_id: 'r0', cancelled_at: at, last_position: 7 },
    ]);
  });
});
