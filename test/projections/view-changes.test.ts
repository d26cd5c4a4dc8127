import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/event-store/event-store.js';
import { viewChanges } from '../../src/projections/view-changes.js';

const at = '2026-11-21T10:00:00.000Z';
const later = '2026-11-21T10:05:00.000Z';
const due = '2026-11-21T10:15:00.000Z';
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
const noTimes = { cancelled_at: null, confirmed_at: null, released_at: null, expired_at: null };

describe('view changes of a batch', () => {
  it('folds a reservation made and cancelled in one batch into one cancelled row', () => {
    const changes = viewChanges([
      recorded(1, 'SeatsReserved', { reservationId: 'r1', seats, reservedAt: at }),
      recorded(2, 'ReservationCancelled', { reservationId: 'r1', seats, cancelledAt: at }),
    ]);
    expect(changes.reservations).toEqual([
      expect.objectContaining({ reservation_id: 'r1', status: 'cancelled', reserved_at: at, cancelled_at: at }),
    ]);
    expect(changes.statusChanges).toEqual([]);
  });

  it('turns the cancel of an earlier reservation into a status change of its row', () => {
    const changes = viewChanges([recorded(7, 'ReservationCancelled', { reservationId: 'r0', seats, cancelledAt: at })]);
    expect(changes.reservations).toEqual([]);
    expect(changes.statusChanges).toEqual([
      { conference_id: 'c', reservation_id: 'r0', status: 'cancelled', ...noTimes, cancelled_at: at, last_position: 7 },
    ]);
  });

  it('writes a hold with its due time, and a confirm and a cancel in the same batch onto its row', () => {
    const changes = viewChanges([
      recorded(1, 'SeatsHeld', { reservationId: 'h1', seats, heldAt: at, expiresAt: due }),
      recorded(2, 'HoldConfirmed', { reservationId: 'h1', seats, confirmedAt: later }),
      recorded(3, 'ReservationCancelled', { reservationId: 'h1', seats, cancelledAt: due }),
    ]);
    expect(changes.reservations).toEqual([
      {
        conference_id: 'c',
        reservation_id: 'h1',
        seats,
        status: 'cancelled',
        reserved_at: at,
        expires_at: due,
        ...noTimes,
        confirmed_at: later,
        cancelled_at: due,
        last_position: 3,
      },
    ]);
    expect(changes.statusChanges).toEqual([]);
  });

  it('merges the later changes of an earlier hold into one status change, the last status winning', () => {
    const changes = viewChanges([
      recorded(8, 'HoldConfirmed', { reservationId: 'h0', seats, confirmedAt: at }),
      recorded(9, 'ReservationCancelled', { reservationId: 'h0', seats, cancelledAt: later }),
      recorded(10, 'HoldExpired', { reservationId: 'h2', seats, expiresAt: at, expiredAt: later }),
      recorded(11, 'HoldReleased', { reservationId: 'h3', seats, releasedAt: later }),
    ]);
    expect(changes.reservations).toEqual([]);
    expect(changes.statusChanges).toEqual([
      {
        conference_id: 'c',
        reservation_id: 'h0',
        status: 'cancelled',
        ...noTimes,
        confirmed_at: at,
        cancelled_at: later,
        last_position: 9,
      },
      { conference_id: 'c', reservation_id: 'h2', status: 'expired', ...noTimes, expired_at: later, last_position: 10 },
      {
        conference_id: 'c',
        reservation_id: 'h3',
        status: 'released',
        ...noTimes,
        released_at: later,
        last_position: 11,
      },
    ]);
  });
});
