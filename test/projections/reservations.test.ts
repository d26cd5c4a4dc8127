import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, type Checkpoint } from '../../src/event-store/event-store.js';
import { applyNext, LIVE_VIEWS, reservations } from '../../src/projections/index.js';
import { streamIdOf, toStoredEvent, type SeatAvailabilityEvent } from '../../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { endOfEvents } from '../support/random-commands.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const at = '2026-11-21T10:00:00.000Z';
const later = '2026-11-21T10:05:00.000Z';
const due = '2026-11-21T10:15:00.000Z';
const seats = [{ seatType: 'standard', quantity: 2 }];

/** The events of one reservation at one conference, each at the time it names. */
const eventsOf = (conferenceId: string, reservationId: string) => {
  const moved = { conferenceId, reservationId, seats };
  return {
    reserved: (reservedAt: string): SeatAvailabilityEvent => ({
      type: 'SeatsReserved',
      data: { ...moved, reservedAt, attendee: null },
    }),
    cancelled: (cancelledAt: string): SeatAvailabilityEvent => ({
      type: 'ReservationCancelled',
      data: { ...moved, cancelledAt },
    }),
    held: (heldAt: string, expiresAt: string): SeatAvailabilityEvent => ({
      type: 'SeatsHeld',
      data: { ...moved, heldAt, expiresAt },
    }),
    confirmed: (confirmedAt: string): SeatAvailabilityEvent => ({
      type: 'HoldConfirmed',
      data: { ...moved, confirmedAt, attendee: null },
    }),
    released: (releasedAt: string): SeatAvailabilityEvent => ({ type: 'HoldReleased', data: { ...moved, releasedAt } }),
    expired: (expiresAt: string, expiredAt: string): SeatAvailabilityEvent => ({
      type: 'HoldExpired',
      data: { ...moved, expiresAt, expiredAt },
    }),
  };
};

/**
 * Appends the events to their conference's stream in one transaction, so that they settle
 * together, and applies them as one batch of the reservations projection; where to apply it
 * again from, and each event's position.
 */
const applyAsOneBatch = async (conferenceId: string, events: SeatAvailabilityEvent[]) => {
  const from = await endOfEvents(db.sql);
  const store = createEventStore(db.sql);
  const streamId = streamIdOf(conferenceId);
  const version = await store.streamVersion(streamId);
  await store.append(streamId, version, events.map(toStoredEvent));
  const positions = (await store.readStream(streamId, { afterVersion: version })).map((event) => event.position);
  const deadline = Date.now() + 20_000;
  // Another test file's open transaction may hold the settled horizon back for a moment.
  while ((await applyBatch(from))?.count !== events.length) {
    if (Date.now() > deadline) throw new Error('the appended events never settled as one batch');
    await new Promise((resume) => setTimeout(resume, 10));
  }
  return { from, positions };
};

/** Applies the next batch after `from`, of at most `limit` events. */
const applyBatch = (from: Checkpoint, limit = 1000) =>
  db.sql.begin((tx) => applyNext(reservations, tx, LIVE_VIEWS, from, limit));

/** Every row of one conference's reservations, every column. */
const rowsOf = (conferenceId: string) => db.sql`
  select conference_id, reservation_id, seats, status, reserved_at, expires_at, cancelled_at, confirmed_at,
    released_at, expired_at, last_position
  from reservations_view where conference_id = ${conferenceId} order by reservation_id`;

/** A row as a reservation or a hold first writes it; `changed` says what happened to it later. */
const row = (
  conferenceId: string,
  reservationId: string,
  taken: { status: string; reserved_at: string; expires_at?: string },
  changed: Partial<Record<'status' | `${'cancelled' | 'confirmed' | 'released' | 'expired'}_at`, string>>,
  lastPosition: number,
) => {
  const time = (iso: string | undefined) => (iso === undefined ? null : new Date(iso));
  return {
    conference_id: conferenceId,
    reservation_id: reservationId,
    seats,
    status: changed.status ?? taken.status,
    reserved_at: time(taken.reserved_at),
    expires_at: time(taken.expires_at),
    cancelled_at: time(changed.cancelled_at),
    confirmed_at: time(changed.confirmed_at),
    released_at: time(changed.released_at),
    expired_at: time(changed.expired_at),
    last_position: lastPosition,
  };
};

describe('the reservations projection in SQL', () => {
  it('writes a reservation made and cancelled in one batch as one cancelled row', async () => {
    const r1 = eventsOf('c1', 'r1');
    const { positions } = await applyAsOneBatch('c1', [r1.reserved(at), r1.cancelled(later)]);
    expect(await rowsOf('c1')).toEqual([
      row(
        'c1',
        'r1',
        { status: 'reserved', reserved_at: at },
        { status: 'cancelled', cancelled_at: later },
        positions[1]!,
      ),
    ]);
  });

  it('changes the status of a row an earlier batch wrote', async () => {
    const r0 = eventsOf('c2', 'r0');
    await applyAsOneBatch('c2', [r0.reserved(at)]);
    const { positions } = await applyAsOneBatch('c2', [r0.cancelled(later)]);
    expect(await rowsOf('c2')).toEqual([
      row(
        'c2',
        'r0',
        { status: 'reserved', reserved_at: at },
        { status: 'cancelled', cancelled_at: later },
        positions[0]!,
      ),
    ]);
  });

  it('writes a hold with its due time, and a confirm and a cancel in the same batch onto its row', async () => {
    const h1 = eventsOf('c3', 'h1');
    const { positions } = await applyAsOneBatch('c3', [h1.held(at, due), h1.confirmed(later), h1.cancelled(due)]);
    expect(await rowsOf('c3')).toEqual([
      row(
        'c3',
        'h1',
        { status: 'held', reserved_at: at, expires_at: due },
        { status: 'cancelled', confirmed_at: later, cancelled_at: due },
        positions[2]!,
      ),
    ]);
  });

  it('folds the later changes of earlier holds into their rows, the last status winning, beside rows taken in the batch', async () => {
    const [h0, h2, h3, r4] = (['h0', 'h2', 'h3', 'r4'] as const).map((id) => eventsOf('c4', id));
    await applyAsOneBatch('c4', [h0!.held(at, due), h2!.held(at, due), h3!.held(at, due)]);
    const { positions } = await applyAsOneBatch('c4', [
      h0!.confirmed(at),
      r4!.reserved(at),
      h0!.cancelled(later),
      h2!.expired(due, later),
      h3!.released(later),
    ]);
    const held = { status: 'held', reserved_at: at, expires_at: due };
    expect(await rowsOf('c4')).toEqual([
      row('c4', 'h0', held, { status: 'cancelled', confirmed_at: at, cancelled_at: later }, positions[2]!),
      row('c4', 'h2', held, { status: 'expired', expired_at: later }, positions[3]!),
      row('c4', 'h3', held, { status: 'released', released_at: later }, positions[4]!),
      row('c4', 'r4', { status: 'reserved', reserved_at: at }, {}, positions[1]!),
    ]);
  });

  it('keeps the times of changes from earlier batches when a later batch changes the status again', async () => {
    const h5 = eventsOf('c5', 'h5');
    await applyAsOneBatch('c5', [h5.held(at, due)]);
    await applyAsOneBatch('c5', [h5.confirmed(later)]);
    const { positions } = await applyAsOneBatch('c5', [h5.cancelled(due)]);
    expect(await rowsOf('c5')).toEqual([
      row(
        'c5',
        'h5',
        { status: 'held', reserved_at: at, expires_at: due },
        { status: 'cancelled', confirmed_at: later, cancelled_at: due },
        positions[0]!,
      ),
    ]);
  });

  it('changes nothing when a batch is applied again, also after a later batch', async () => {
    const [h6, h7] = (['h6', 'h7'] as const).map((id) => eventsOf('c6', id));
    const first = await applyAsOneBatch('c6', [h6!.held(at, due), h7!.held(at, due), h6!.confirmed(at)]);
    const afterFirst = await rowsOf('c6');
    expect((await applyBatch(first.from))?.count).toBe(3);
    expect(await rowsOf('c6')).toEqual(afterFirst);

    await applyAsOneBatch('c6', [h6!.cancelled(later), h7!.expired(due, later)]);
    const afterSecond = await rowsOf('c6');
    expect(afterSecond).not.toEqual(afterFirst);
    expect((await applyBatch(first.from, 3))?.count).toBe(3);
    expect(await rowsOf('c6')).toEqual(afterSecond);
    expect((await applyBatch(first.from))?.count).toBe(5);
    expect(await rowsOf('c6')).toEqual(afterSecond);
  });

  it('starts a row over when its id is taken again, in the same batch or a later one', async () => {
    const [r7, r8] = (['r7', 'r8'] as const).map((id) => eventsOf('c7', id));
    await applyAsOneBatch('c7', [r7!.reserved(at), r7!.cancelled(later)]);
    const { positions } = await applyAsOneBatch('c7', [
      r7!.held(later, due),
      r8!.reserved(at),
      r8!.cancelled(at),
      r8!.held(later, due),
      r8!.confirmed(due),
    ]);
    const held = { status: 'held', reserved_at: later, expires_at: due };
    expect(await rowsOf('c7')).toEqual([
      row('c7', 'r7', held, {}, positions[0]!),
      row('c7', 'r8', held, { status: 'confirmed', confirmed_at: due }, positions[4]!),
    ]);
  });
});
