import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_DEFAULTS, type CommandOutcome } from '../src/command-handlers/index.js';
import { RecentReservations } from '../src/command-handlers/recent-reservations.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService } from './support/service.js';
import { viewContents } from './support/views.js';

/**
 * The aggregate's state is the seat counts; a reservation's earlier events are found by its id.
 * These tests make sure nothing a reservation did is forgotten when it is not in memory: after a
 * restart, after the writer's bounded cache dropped it, long after it was made.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** A writer that keeps only `reservationsCached` reservations per conference in memory. */
const serviceKeeping = (reservationsCached: number) =>
  createTestService(db.sql, {
    batch: { ...BATCH_DEFAULTS, maxCached: 100, reservationsCached },
  });

const standard = (quantity: number) => [{ seatType: 'standard', quantity }];
const kindOf = (outcome: CommandOutcome) =>
  outcome.kind === 'rejected' ? outcome.rejection.kind : outcome.appended > 0 ? 'created' : 'repeated';

const createWithHistory = async (service: ReturnType<typeof serviceKeeping>, conferenceId: string, others: number) => {
  await service.handlers.createConference({
    conferenceId,
    name: conferenceId,
    seatTypes: [{ type: 'standard', capacity: 10_000 }],
  });
  expect(kindOf(await service.handlers.reserveSeats({ conferenceId, reservationId: 'old', seats: standard(3) }))).toBe(
    'created',
  );
  // Many later reservations push 'old' out of any cache, in batches of 100 as a surge would.
  for (let i = 0; i < others; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, others - i) }, (_, j) =>
        service.handlers.reserveSeats({ conferenceId, reservationId: `later-${i + j}`, seats: standard(1) }),
      ),
    );
  }
};

describe('reservations found by their id', () => {
  it('keeps at most its capacity, least recently used dropped first', () => {
    const recent = new RecentReservations(3);
    for (const id of ['a', 'b', 'c']) recent.set(id, { status: 'reserved', seats: standard(1) });
    recent.get('a'); // now the most recently used
    recent.set('d', { status: 'reserved', seats: standard(1) });
    expect(recent.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].filter((id) => recent.has(id))).toEqual(['a', 'c', 'd']);
  });

  it('answers a repeat, a conflicting repeat and a cancel of a reservation its cache has dropped', async () => {
    const service = serviceKeeping(10);
    await createWithHistory(service, 'evicted', 1000);
    const h = service.handlers;
    expect(kindOf(await h.reserveSeats({ conferenceId: 'evicted', reservationId: 'old', seats: standard(3) }))).toBe(
      'repeated',
    );
    expect(kindOf(await h.reserveSeats({ conferenceId: 'evicted', reservationId: 'old', seats: standard(2) }))).toBe(
      'reservation_conflict',
    );
    // Push it out again, then cancel it: its seats come back.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.reserveSeats({ conferenceId: 'evicted', reservationId: `more-${i}`, seats: standard(1) }),
      ),
    );
    const cancelled = await h.cancelReservation({ conferenceId: 'evicted', reservationId: 'old' });
    expect(kindOf(cancelled)).toBe('created');
    expect(cancelled.kind === 'accepted' && cancelled.reservation).toEqual({ status: 'cancelled', seats: standard(3) });
    expect((await service.bookings.availability('evicted', 'strong'))?.seatTypes[0]?.reserved).toBe(1020);
  });

  it('answers the same after a restart, from the store alone', async () => {
    await createWithHistory(serviceKeeping(1000), 'restarted', 300);
    const restarted = serviceKeeping(1000); // a new process: empty caches
    const h = restarted.handlers;
    expect(kindOf(await h.reserveSeats({ conferenceId: 'restarted', reservationId: 'old', seats: standard(3) }))).toBe(
      'repeated',
    );
    expect(kindOf(await h.cancelReservation({ conferenceId: 'restarted', reservationId: 'old' }))).toBe('created');
    const again = createTestService(db.sql); // and the direct path of yet another process
    expect(
      kindOf(
        await again.directHandlers.reserveSeats({
          conferenceId: 'restarted',
          reservationId: 'old',
          seats: standard(3),
        }),
      ),
    ).toBe('reservation_conflict');
    expect(
      kindOf(await again.directHandlers.cancelReservation({ conferenceId: 'restarted', reservationId: 'old' })),
    ).toBe('repeated');
    expect(
      kindOf(await again.directHandlers.cancelReservation({ conferenceId: 'restarted', reservationId: 'never' })),
    ).toBe('reservation_not_found');
  });

  it('decides a reserve, its repeat, a cancel and a reuse of one id inside one batch, in order', async () => {
    const service = serviceKeeping(0); // nothing cached: every id of a batch is looked up
    await service.handlers.createConference({
      conferenceId: 'one-batch',
      name: 'One batch',
      seatTypes: [{ type: 'standard', capacity: 4 }],
    });
    const h = service.handlers;
    const outcomes = await Promise.all([
      h.reserveSeats({ conferenceId: 'one-batch', reservationId: 'x', seats: standard(4) }),
      h.reserveSeats({ conferenceId: 'one-batch', reservationId: 'x', seats: standard(4) }),
      h.reserveSeats({ conferenceId: 'one-batch', reservationId: 'y', seats: standard(1) }),
      h.cancelReservation({ conferenceId: 'one-batch', reservationId: 'x' }),
      h.cancelReservation({ conferenceId: 'one-batch', reservationId: 'x' }),
      h.reserveSeats({ conferenceId: 'one-batch', reservationId: 'x', seats: standard(4) }),
      h.reserveSeats({ conferenceId: 'one-batch', reservationId: 'y', seats: standard(1) }),
    ]);
    expect(outcomes.map(kindOf)).toEqual([
      'created',
      'repeated',
      'insufficient_seats',
      'created',
      'repeated',
      'reservation_conflict',
      'created',
    ]);
    const events = await service.eventStore.readStream(streamIdOf('one-batch'));
    expect(events.map((e) => e.type)).toEqual([
      'ConferenceCreated',
      'SeatsReserved',
      'ReservationCancelled',
      'SeatsReserved',
    ]);
  });

  it('keeps the invariant, the store and the views right when 400 commands race over old and new ids', async () => {
    const service = serviceKeeping(5);
    await service.handlers.createConference({
      conferenceId: 'old-and-new',
      name: 'Race',
      seatTypes: [{ type: 'standard', capacity: 150 }],
    });
    for (let i = 0; i < 100; i++) {
      await service.handlers.reserveSeats({
        conferenceId: 'old-and-new',
        reservationId: `old-${i}`,
        seats: standard(1),
      });
    }
    const h = service.handlers;
    const outcomes = await Promise.all(
      Array.from({ length: 400 }, (_, i) => {
        if (i % 4 === 0) return h.cancelReservation({ conferenceId: 'old-and-new', reservationId: `old-${i / 4}` });
        if (i % 4 === 1)
          return h.reserveSeats({
            conferenceId: 'old-and-new',
            reservationId: `old-${(i - 1) / 4}`,
            seats: standard(1),
          });
        return h.reserveSeats({ conferenceId: 'old-and-new', reservationId: `new-${i}`, seats: standard(1) });
      }),
    );
    const kinds = outcomes.map(kindOf);
    // Each old id is cancelled once, and its repeat answered "repeated" or (after the cancel) a conflict.
    expect(kinds.filter((k, i) => i % 4 === 0 && k === 'created')).toHaveLength(100);
    expect(kinds.filter((k, i) => i % 4 === 1 && !['repeated', 'reservation_conflict'].includes(k))).toEqual([]);
    const created = kinds.filter((k, i) => i % 4 >= 2 && k === 'created').length;
    expect(created).toBe(150); // 150 seats, all 100 old ones returned: the new ones got every seat
    const events = await service.eventStore.readStream(streamIdOf('old-and-new'));
    const reserved = events.filter((e) => e.type === 'SeatsReserved').length;
    const cancelledEvents = events.filter((e) => e.type === 'ReservationCancelled').length;
    expect(reserved - cancelledEvents).toBe(150);
    expect((await service.bookings.availability('old-and-new', 'strong'))?.seatTypes[0]).toMatchObject({
      reserved: 150,
      remaining: 0,
    });
    await catchUp(service.projector);
    const views = await viewContents(db.sql);
    expect(views.seats.find((s) => s.conference_id === 'old-and-new')).toMatchObject({ reserved: 150, remaining: 0 });
    expect(
      views.reservations.filter((r) => r.conference_id === 'old-and-new' && r.status === 'cancelled'),
    ).toHaveLength(100);
  });
});

describe('an append that assumed reservation ids were new', () => {
  it('appends nothing and reports their events when one of them exists, and a conflict when the stream moved', async () => {
    const { KeysExistError } = await import('../src/event-store/keys-exist-error.js');
    const { VersionConflictError } = await import('../src/event-store/version-conflict-error.js');
    const service = serviceKeeping(10);
    await createWithHistory(service, 'guarded', 0);
    const streamId = streamIdOf('guarded');
    const event = (reservationId: string) => ({
      type: 'SeatsReserved',
      data: { conferenceId: 'guarded', reservationId, seats: standard(1), reservedAt: new Date().toISOString() },
      key: reservationId,
    });
    const store = service.eventStore;
    const append = (expectedVersion: number, reservationId: string, newKeys: string[]) =>
      store.appendStreams([{ streamId, expectedVersion, events: [event(reservationId)], newKeys }]);
    const [exists] = await append(2, 'old', ['fresh', 'old']);
    expect(exists).toBeInstanceOf(KeysExistError);
    expect((exists as InstanceType<typeof KeysExistError>).events.map((e) => e.streamVersion)).toEqual([2]);
    expect((await append(1, 'fresh', ['fresh']))[0]).toBeInstanceOf(VersionConflictError);
    expect(await store.streamVersion(streamId)).toBe(2);
    expect((await append(2, 'fresh', ['fresh']))[0]).toMatchObject({ version: 3 });
  });
});
