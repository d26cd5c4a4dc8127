import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_DEFAULTS,
  BusyError,
  isOverloaded,
  type BatchOptions,
  type CommandOutcome,
} from '../src/command-handlers/index.js';
import { connect } from '../src/database/connect.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService } from './support/service.js';
import { viewContents } from './support/views.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const kindOf = (outcome: PromiseSettledResult<CommandOutcome>) => {
  if (outcome.status === 'rejected') return outcome.reason instanceof BusyError ? 'busy' : `error: ${outcome.reason}`;
  const value = outcome.value;
  return value.kind === 'rejected' ? value.rejection.kind : value.appended > 0 ? 'created' : 'repeated';
};

const standard = (quantity: number) => [{ seatType: 'standard', quantity }];

/** `promise`, or a failure after `ms`: a wait that can end the test instead of hanging it. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)),
  ]);

/**
 * A service whose writer, once `hold()` is called, stops its next batch between append and answer
 * (`holdReached` then resolves) until `release()`.
 */
const serviceHoldingBatches = (batch: BatchOptions) => {
  let releaseHeld: () => void = () => {};
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));
  let reachedHold: () => void = () => {};
  const holdReached = new Promise<void>((resolve) => (reachedHold = resolve));
  let holding = false;
  const service = createTestService(db.sql, {
    batch,
    afterBatchAppend: async () => {
      if (!holding) return;
      reachedHold();
      await held;
    },
  });
  return {
    service,
    holdReached,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      releaseHeld();
    },
  };
};

describe('batched write path', () => {
  it('decides a batch one command after another and answers each caller with its own outcome', async () => {
    const service = createTestService(db.sql);
    await service.handlers.createConference({
      conferenceId: 'batch',
      name: 'Batch',
      seatTypes: [{ type: 'standard', capacity: 5 }],
    });
    const h = service.handlers;
    // Sent in one turn, so they share one batch.
    const outcomes = await Promise.allSettled([
      h.reserveSeats({ conferenceId: 'batch', reservationId: 'a', seats: standard(2) }),
      h.reserveSeats({ conferenceId: 'batch', reservationId: 'too-many', seats: standard(4) }),
      h.reserveSeats({ conferenceId: 'batch', reservationId: 'a', seats: standard(2) }),
      h.reserveSeats({ conferenceId: 'batch', reservationId: 'a', seats: standard(1) }),
      h.reserveSeats({ conferenceId: 'batch', reservationId: 'b', seats: standard(3) }),
      h.cancelReservation({ conferenceId: 'batch', reservationId: 'a' }),
      h.reserveSeats({ conferenceId: 'batch', reservationId: 'c', seats: standard(2) }),
    ]);
    expect(outcomes.map(kindOf)).toEqual([
      'created',
      'insufficient_seats', // 2 of 5 taken by 'a' earlier in the same batch
      'repeated', // the same id and seats: idempotent, inside the batch
      'reservation_conflict',
      'created',
      'created', // the cancel, returning a's 2 seats...
      'created', // ...which 'c' then gets
    ]);

    const events = await service.eventStore.readStream(streamIdOf('batch'));
    const batchEvents = events.slice(1);
    expect(batchEvents.map((e) => e.type)).toEqual([
      'SeatsReserved',
      'SeatsReserved',
      'ReservationCancelled',
      'SeatsReserved',
    ]);
    // One append: one transaction, one recording time.
    expect(new Set(batchEvents.map((e) => e.recordedAt.getTime())).size).toBe(1);
    const strong = await service.bookings.availability('batch', 'strong');
    expect(strong?.seatTypes[0]).toMatchObject({ reserved: 5, remaining: 0 });
    const batches = await service.metrics.batchSize.get();
    expect(batches.values.find((v) => v.metricName === 'seat_surge_batch_commands_sum')?.value).toBeGreaterThanOrEqual(
      7,
    );
  });

  it('refuses commands at once with busy when a conference queue is full, and loses none it accepted', async () => {
    const { service, hold, holdReached, release } = serviceHoldingBatches({
      ...BATCH_DEFAULTS,
      maxBatch: 2,
      maxQueue: 3,
      maxQueueWaitMs: 0,
      maxCached: 100,
      reservationsCached: 100,
    });
    await service.handlers.createConference({
      conferenceId: 'full',
      name: 'Full',
      seatTypes: [{ type: 'standard', capacity: 100 }],
    });
    hold();
    const first = service.handlers.reserveSeats({ conferenceId: 'full', reservationId: 'first', seats: standard(1) });
    await holdReached; // the writer is busy: its first batch is held between append and answer
    const rest = Array.from({ length: 8 }, (_, i) =>
      service.handlers.reserveSeats({ conferenceId: 'full', reservationId: `r-${i}`, seats: standard(1) }),
    );
    // Three wait in the queue; the other five are refused while the batch is still held.
    const refused = await within(Promise.allSettled(rest.slice(3)), 5000);
    expect(refused.map(kindOf)).toEqual(['busy', 'busy', 'busy', 'busy', 'busy']);
    const overHttp = await service.app.request('/conferences/full/reservations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reservationId: 'sent-over-http-01', seats: standard(1) }),
    });
    expect(overHttp.status).toBe(503);
    expect(overHttp.headers.get('retry-after')).toBe('1');
    expect(((await overHttp.json()) as { error: string }).error).toBe('busy');
    // An expiry is never refused: it gives seats back, and the expirer bounds how many it sends.
    const expiry = service.handlers.expireHold({ conferenceId: 'full', reservationId: 'no-such-hold' });

    release();
    expect(kindOf((await Promise.allSettled([expiry]))[0])).toBe('repeated');
    const outcomes = (await Promise.allSettled([first, ...rest])).map(kindOf);
    expect(outcomes).toEqual(['created', 'created', 'created', 'created', 'busy', 'busy', 'busy', 'busy', 'busy']);
    expect((await service.bookings.availability('full', 'strong'))?.seatTypes[0]?.reserved).toBe(4);
    expect((await service.metrics.queueFull.get()).values[0]?.value).toBe(6);
  });

  it('closes a conference to new commands while its oldest waiting command has waited too long', () => {
    const limits = { maxQueue: 4096, maxQueueWaitMs: 50 };
    expect(isOverloaded([], 1000, limits)).toBe(false);
    expect(isOverloaded([{ queuedAt: 951 }, { queuedAt: 999 }], 1000, limits)).toBe(false);
    expect(isOverloaded([{ queuedAt: 950 }, { queuedAt: 999 }], 1000, limits)).toBe(true);
    expect(isOverloaded([{ queuedAt: 0 }], 1000, { ...limits, maxQueueWaitMs: 0 })).toBe(false);
    expect(isOverloaded([{ queuedAt: 999 }], 1000, { ...limits, maxQueue: 1 })).toBe(true);
  });

  it('refuses new commands with busy once the oldest has waited BATCH_QUEUE_MAX_WAIT_MS, and takes them again when the writer catches up', async () => {
    const { service, hold, holdReached, release } = serviceHoldingBatches({ ...BATCH_DEFAULTS, maxQueueWaitMs: 40 });
    await service.handlers.createConference({
      conferenceId: 'slow',
      name: 'Slow',
      seatTypes: [{ type: 'standard', capacity: 100 }],
    });
    const reserve = (reservationId: string) =>
      service.handlers.reserveSeats({ conferenceId: 'slow', reservationId, seats: standard(1) });
    hold();
    const first = reserve('first');
    await holdReached; // the writer is busy with its first batch
    const waiting = [reserve('waits-1'), reserve('waits-2')]; // queued at once: nothing has waited yet
    await new Promise((next) => setTimeout(next, 100)); // the oldest has now waited over 40 ms
    const refused = await within(Promise.allSettled([reserve('late-1'), reserve('late-2')]), 5000);
    expect(refused.map(kindOf)).toEqual(['busy', 'busy']);

    release();
    expect((await Promise.allSettled([first, ...waiting])).map(kindOf)).toEqual(['created', 'created', 'created']);
    expect(kindOf((await Promise.allSettled([reserve('after')]))[0])).toBe('created'); // open again
    const events = await service.eventStore.readStream(streamIdOf('slow'));
    expect(
      events.filter((e) => e.type === 'SeatsReserved').map((e) => (e.data as { reservationId: string }).reservationId),
    ).toEqual(['first', 'waits-1', 'waits-2', 'after']);
    expect((await service.metrics.queueFull.get()).values[0]?.value).toBe(2);
  });

  it('under a burst past what the writer commits, sells exactly what it accepted and refuses the rest with busy', async () => {
    // A wait of 1 ms closes the conference almost at once: many of the 600 are refused.
    const service = createTestService(db.sql, { batch: { ...BATCH_DEFAULTS, maxBatch: 16, maxQueueWaitMs: 1 } });
    await service.handlers.createConference({
      conferenceId: 'burst',
      name: 'Burst',
      seatTypes: [{ type: 'standard', capacity: 400 }],
    });
    const outcomes: PromiseSettledResult<CommandOutcome>[] = [];
    // Six waves of 100 in one turn each, a few ms apart, so some find the queue open again.
    for (let wave = 0; wave < 6; wave++) {
      const sent = Array.from({ length: 100 }, (_, i) =>
        service.handlers.reserveSeats({ conferenceId: 'burst', reservationId: `b-${wave}-${i}`, seats: standard(1) }),
      );
      void Promise.allSettled(sent).then((settled) => outcomes.push(...settled));
      await new Promise((next) => setTimeout(next, 3));
    }
    for (let i = 0; outcomes.length < 600 && i < 1000; i++) await new Promise((next) => setTimeout(next, 10));
    const kinds = outcomes.map(kindOf);
    const created = kinds.filter((k) => k === 'created').length;
    expect(kinds.filter((k) => !['created', 'insufficient_seats', 'busy'].includes(k))).toEqual([]);
    expect(kinds.filter((k) => k === 'busy').length).toBeGreaterThan(0);
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThanOrEqual(400);
    // The store, the aggregate and the views hold exactly the reservations that were answered created.
    const events = await service.eventStore.readStream(streamIdOf('burst'));
    expect(events.filter((e) => e.type === 'SeatsReserved')).toHaveLength(created);
    expect((await service.bookings.availability('burst', 'strong'))?.seatTypes[0]).toMatchObject({
      reserved: created,
      remaining: 400 - created,
    });
    await catchUp(service.projector);
    const views = await viewContents(db.sql);
    expect(views.seats.find((s) => s.conference_id === 'burst')).toMatchObject({ reserved: created });
    expect(views.reservations.filter((r) => r.conference_id === 'burst')).toHaveLength(created);
  });

  it('catches its cached state up when another process appended, and decides again', async () => {
    const writer = createTestService(db.sql);
    const other = createTestService(db.sql); // its own cache: stands for another API process
    await writer.handlers.createConference({
      conferenceId: 'catch-up',
      name: 'C',
      seatTypes: [{ type: 'standard', capacity: 3 }],
    });
    await writer.handlers.reserveSeats({ conferenceId: 'catch-up', reservationId: 'mine', seats: standard(1) }); // cached now
    await other.directHandlers.reserveSeats({ conferenceId: 'catch-up', reservationId: 'theirs', seats: standard(2) });

    const outcome = await writer.handlers.reserveSeats({
      conferenceId: 'catch-up',
      reservationId: 'late',
      seats: standard(1),
    });
    expect(outcome.kind).toBe('rejected'); // the cache said 2 left; the store says 0
    expect(outcome.kind === 'rejected' && outcome.rejection.kind).toBe('insufficient_seats');
    // It was decided on the stale cache first, met the conflict, caught up and decided again.
    expect((await writer.metrics.versionConflicts.get()).values[0]?.value).toBe(1);

    const repeat = await writer.handlers.reserveSeats({
      conferenceId: 'catch-up',
      reservationId: 'theirs',
      seats: standard(2),
    });
    expect(repeat.kind === 'accepted' && repeat.appended).toBe(0); // knows 'theirs' now
  });

  it('never oversells with two processes (separate pools and caches) hammering one conference', async () => {
    const otherPool = connect(db.url, 5);
    const a = createTestService(db.sql);
    const b = createTestService(otherPool);
    try {
      await a.handlers.createConference({
        conferenceId: 'two-writers',
        name: 'Two',
        seatTypes: [{ type: 'standard', capacity: 100 }],
      });
      // Both cache the conference; b's write leaves a's cache one version behind, so they collide.
      await a.handlers.reserveSeats({ conferenceId: 'two-writers', reservationId: 'warm-a', seats: standard(1) });
      await b.handlers.reserveSeats({ conferenceId: 'two-writers', reservationId: 'warm-b', seats: standard(1) });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 300 }, (_, i) =>
          (i % 2 === 0 ? a : b).handlers.reserveSeats({
            conferenceId: 'two-writers',
            reservationId: `w-${i}`,
            seats: standard(1),
          }),
        ),
      );
      const kinds = outcomes.map(kindOf);
      expect(kinds.filter((k) => k === 'created')).toHaveLength(98);
      expect(kinds.filter((k) => !['created', 'insufficient_seats', 'busy'].includes(k))).toEqual([]);
      const events = await a.eventStore.readStream(streamIdOf('two-writers'));
      expect(events.filter((e) => e.type === 'SeatsReserved')).toHaveLength(100);
      expect((await a.bookings.availability('two-writers', 'strong'))?.seatTypes[0]).toMatchObject({
        reserved: 100,
        remaining: 0,
      });
      const conflicts =
        ((await a.metrics.versionConflicts.get()).values[0]?.value ?? 0) +
        ((await b.metrics.versionConflicts.get()).values[0]?.value ?? 0);
      expect(conflicts).toBeGreaterThan(0); // they really did collide, and were kept apart by the expected version
    } finally {
      await otherPool.end({ timeout: 5 });
    }
  });

  it('after a crash between append and answer, keeps every committed reservation and counts none twice on retry', async () => {
    // The first process commits a batch, then "dies" before answering anyone.
    const crashingPool = connect(db.url, 3);
    const crashing = createTestService(crashingPool, { afterBatchAppend: () => new Promise<void>(() => {}) });
    await createTestService(db.sql).handlers.createConference({
      conferenceId: 'crash',
      name: 'Crash',
      seatTypes: [{ type: 'standard', capacity: 10 }],
    });
    const unanswered = ['x', 'y', 'z'].map((id) =>
      crashing.handlers.reserveSeats({ conferenceId: 'crash', reservationId: id, seats: standard(2) }),
    );
    let answered = 0;
    for (const pending of unanswered)
      void pending.then(
        () => answered++,
        () => answered++,
      );
    const committed = async () => (await db.sql`select 1 from events where stream_id = ${streamIdOf('crash')}`).length;
    for (let i = 0; committed && (await committed()) < 4 && i < 200; i++)
      await new Promise((next) => setTimeout(next, 10));
    expect(await committed()).toBe(4);
    // Committed, and nobody answered: an answer given before the hook would have settled by now.
    await new Promise((next) => setImmediate(next));
    expect(answered).toBe(0);
    await crashingPool.end({ timeout: 1 });

    // The restarted process; the clients retry with the same reservation ids.
    const restarted = createTestService(db.sql);
    const retries = await Promise.all(
      ['x', 'y', 'z', 'new'].map((id) =>
        restarted.handlers.reserveSeats({ conferenceId: 'crash', reservationId: id, seats: standard(2) }),
      ),
    );
    expect(retries.map((r) => (r.kind === 'accepted' ? r.appended : r.rejection.kind))).toEqual([0, 0, 0, 1]);
    const events = await restarted.eventStore.readStream(streamIdOf('crash'));
    expect(events.filter((e) => e.type === 'SeatsReserved')).toHaveLength(4);
    expect((await restarted.bookings.availability('crash', 'strong'))?.seatTypes[0]?.reserved).toBe(8);
    await catchUp(restarted.projector);
    const views = await viewContents(db.sql);
    expect(views.seats.find((s) => s.conference_id === 'crash')).toMatchObject({ reserved: 8, remaining: 2 });
    expect(views.reservations.filter((r) => r.conference_id === 'crash')).toHaveLength(4);
  });
});
