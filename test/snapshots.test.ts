import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeatAvailability, toSeatAvailabilityEvent } from '../src/command-handlers/index.js';
import { evolveAll, streamIdOf } from '../src/seat-availability/index.js';
import {
  fromSnapshot,
  RESERVATIONS_PER_TURN,
  serializeSnapshot,
  snapshotDue,
  snapshotStep,
  SNAPSHOT_SCHEMA_VERSION,
  writeSnapshot,
} from '../src/snapshots/index.js';
import type { OpenConference, Reservation } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService } from './support/service.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

let conferences = 0;
const newConferenceId = () => `conf-${++conferences}`;

/** Plays a history of reserves and cancels through the real handlers. */
const playHistory = async (
  service: ReturnType<typeof createTestService>,
  conferenceId: string,
  steps: { cancel: boolean; id: number; quantity: number }[],
) => {
  await service.handlers.createConference({
    conferenceId,
    name: 'Snapshot test',
    seatTypes: [
      { type: 'standard', capacity: 60 },
      { type: 'vip', capacity: 5 },
    ],
  });
  for (const step of steps) {
    const reservationId = `r${step.id}`;
    if (step.cancel) await service.handlers.cancelReservation({ conferenceId, reservationId });
    else
      await service.handlers.reserveSeats({
        conferenceId,
        reservationId,
        seats: [{ seatType: step.quantity > 3 ? 'standard' : 'vip', quantity: step.quantity }],
      });
    // One snapshot write at a time per stream (a due one is skipped while the previous is still
    // being written): settling after each step makes the snapshot taken deterministic.
    await service.snapshots.settle();
  }
  await service.snapshots.settle();
};

/** The stored snapshot of a conference, read back into a state. */
const storedSnapshot = async (conferenceId: string) => {
  const [row] = await db.sql<{ version: number; state: Parameters<typeof fromSnapshot>[0] }[]>`
    select version, state from snapshots where stream_id = ${streamIdOf(conferenceId)}`;
  return row && { version: row.version, state: fromSnapshot(row.state) };
};

const fullReplay = async (service: ReturnType<typeof createTestService>, conferenceId: string) =>
  evolveAll((await service.eventStore.readStream(streamIdOf(conferenceId))).map(toSeatAvailabilityEvent));

describe('snapshots', () => {
  it('is due when an append crosses a multiple of the interval, never with interval 0', () => {
    expect(snapshotDue(10, 9, 10)).toBe(true);
    expect(snapshotDue(10, 8, 12)).toBe(true);
    expect(snapshotDue(10, 10, 11)).toBe(false);
    expect(snapshotDue(10, 3, 9)).toBe(false);
    expect(snapshotDue(0, 99, 100)).toBe(false);
  });

  it('doubles the step while the state holds more than ten reservations per event of the step', () => {
    expect(snapshotStep(100, 0)).toBe(100);
    expect(snapshotStep(100, 1000)).toBe(100);
    expect(snapshotStep(100, 1001)).toBe(200);
    expect(snapshotStep(100, 50_000)).toBe(6400);
    // Every step is a multiple of the interval, so large states snapshot on the same versions.
    expect(snapshotDue(100, 6399, 6400, 50_000)).toBe(true);
    expect(snapshotDue(100, 6499, 6500, 50_000)).toBe(false);
    expect(snapshotDue(100, 6499, 6500, 500)).toBe(true);
  });

  it('loads the same state from snapshot plus tail as from a full replay, for random histories and intervals', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 3, 7, 25),
        fc.array(
          fc.record({
            cancel: fc.boolean(),
            id: fc.integer({ min: 1, max: 15 }),
            quantity: fc.integer({ min: 1, max: 8 }),
          }),
          { minLength: 5, maxLength: 40 },
        ),
        async (interval, steps) => {
          const service = createTestService(db.sql, { snapshotInterval: interval });
          const conferenceId = newConferenceId();
          await playHistory(service, conferenceId, steps);
          const loaded = await loadSeatAvailability(service, conferenceId);
          expect(loaded.state).toEqual(await fullReplay(service, conferenceId));
          expect(loaded.version).toBe(await service.eventStore.streamVersion(streamIdOf(conferenceId)));

          // The snapshot was really used: one exists at the last multiple of the interval crossed.
          const [snapshot] = await db.sql<{ version: number }[]>`
            select version from snapshots where stream_id = ${streamIdOf(conferenceId)}`;
          const expected = Math.floor(loaded.version / interval) * interval;
          expect(snapshot?.version ?? 0).toBe(expected >= interval ? expected : 0);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('takes no snapshot with interval 0', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 0 });
    const conferenceId = newConferenceId();
    await playHistory(
      service,
      conferenceId,
      Array.from({ length: 12 }, (_, i) => ({ cancel: false, id: i, quantity: 1 })),
    );
    expect(await db.sql`select 1 from snapshots where stream_id = ${streamIdOf(conferenceId)}`).toHaveLength(0);
  });

  it('ignores a snapshot written in another schema version and replays in full', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 0 });
    const conferenceId = newConferenceId();
    await playHistory(service, conferenceId, [{ cancel: false, id: 1, quantity: 2 }]);
    // A stale-schema snapshot claiming the whole conference is booked: trusting it would be wrong.
    const lie = {
      conferenceId,
      name: 'Lie',
      seatTypes: [
        ['standard', 60, 60],
        ['vip', 5, 5],
      ],
      reservations: [],
    };
    await db.sql`
      insert into snapshots (stream_id, version, position, schema_version, state)
      values (${streamIdOf(conferenceId)}, 2, 0, ${SNAPSHOT_SCHEMA_VERSION - 1}, ${db.sql.json(lie)})`;
    const loaded = await loadSeatAvailability(service, conferenceId);
    expect(loaded.state).toEqual(await fullReplay(service, conferenceId));
    expect(loaded.state.status === 'open' && loaded.state.name).toBe('Snapshot test');
  });

  it('answers the command that crossed the interval even when the snapshot write fails', async () => {
    const service = createTestService(db.sql, {
      snapshotInterval: 2,
      writeSnapshot: () => Promise.reject(new Error('disk full')),
    });
    const conferenceId = newConferenceId();
    await playHistory(service, conferenceId, [
      { cancel: false, id: 1, quantity: 1 },
      { cancel: false, id: 2, quantity: 1 },
      { cancel: false, id: 3, quantity: 1 },
    ]);
    const outcome = await service.handlers.reserveSeats({
      conferenceId,
      reservationId: 'r4',
      seats: [{ seatType: 'vip', quantity: 1 }],
    });
    await service.snapshots.settle();
    expect(outcome.kind).toBe('accepted');
    expect(await service.eventStore.streamVersion(streamIdOf(conferenceId))).toBe(5);
    const failed = await service.metrics.snapshots.get();
    expect(failed.values.find((v) => v.labels.outcome === 'failed')?.value).toBe(2);
  });

  it("skips a due snapshot while the stream's previous one is still being written, and still loads exactly", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const written: number[] = [];
    const service = createTestService(db.sql, {
      snapshotInterval: 2,
      writeSnapshot: async (sql, streamId, snapshot) => {
        await gate;
        written.push(snapshot.version);
        await writeSnapshot(sql, streamId, snapshot);
      },
    });
    const conferenceId = newConferenceId();
    await service.handlers.createConference({
      conferenceId,
      name: 'Slow snapshots',
      seatTypes: [{ type: 'standard', capacity: 60 }],
    });
    for (let i = 1; i <= 5; i++) {
      await service.handlers.reserveSeats({
        conferenceId,
        reservationId: `r${i}`,
        seats: [{ seatType: 'standard', quantity: 1 }],
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
    release();
    await service.snapshots.settle();
    // Version 2 was due and held at the gate; versions 4 and 6 fell due meanwhile and were skipped.
    expect(written).toEqual([2]);
    const outcomes = (await service.metrics.snapshots.get()).values;
    expect(outcomes.find((v) => v.labels.outcome === 'skipped')?.value).toBe(2);
    const loaded = await loadSeatAvailability(service, conferenceId);
    expect(loaded.state).toEqual(await fullReplay(service, conferenceId));
    expect(loaded.version).toBe(6);
  });

  it('serialises a state over several turns of the event loop into JSON that reads back as the same state', async () => {
    const reservations = new Map<string, Reservation>();
    for (let i = 0; i < 2 * RESERVATIONS_PER_TURN + 7; i++) {
      reservations.set(`r-${i}`, {
        status: i % 5 === 0 ? 'cancelled' : 'reserved',
        seats: [{ seatType: i % 2 ? 'standard' : 'vip', quantity: 1 + (i % 3) }],
      });
    }
    const state: OpenConference = {
      status: 'open',
      conferenceId: 'big',
      name: 'Big "quoted" conference',
      seatTypes: new Map([
        ['standard', { capacity: 100_000, reserved: 10 }],
        ['vip', { capacity: 50_000, reserved: 4 }],
      ]),
      reservations,
    };
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const json = await serializeSnapshot(state);
    clearInterval(counting);
    expect(fromSnapshot(JSON.parse(json))).toEqual(state);
    expect(turns).toBeGreaterThan(0); // it let timers run while it worked
    const empty = await serializeSnapshot({ ...state, reservations: new Map() });
    expect(JSON.parse(empty).reservations).toEqual([]);
  });

  it('folds what the batched writer did while a snapshot was being written back into its cached state', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const service = createTestService(db.sql, {
      snapshotInterval: 2,
      writeSnapshot: async (sql, streamId, snapshot) => {
        await gate;
        await writeSnapshot(sql, streamId, snapshot);
      },
    });
    const conferenceId = newConferenceId();
    const reserve = (reservationId: string, quantity = 1) =>
      service.handlers.reserveSeats({ conferenceId, reservationId, seats: [{ seatType: 'standard', quantity }] });
    await service.handlers.createConference({
      conferenceId,
      name: 'Set aside',
      seatTypes: [{ type: 'standard', capacity: 10 }],
    });
    await reserve('r1'); // version 2: a snapshot falls due and waits at the gate
    // While it waits, the cached state moves on: r1 is cancelled, r2 and r3 are reserved.
    expect((await service.handlers.cancelReservation({ conferenceId, reservationId: 'r1' })).kind).toBe('accepted');
    await reserve('r2');
    await reserve('r3');
    release();
    await service.snapshots.settle();

    const events = (await service.eventStore.readStream(streamIdOf(conferenceId))).map(toSeatAvailabilityEvent);
    const stored = await storedSnapshot(conferenceId);
    expect(stored?.version).toBe(2);
    expect(stored?.state).toEqual(evolveAll(events.slice(0, 2))); // r1 still reserved in it

    // The next batch folds the layer back; the writer's cache still knows everything.
    await reserve('r4');
    await service.snapshots.settle();
    expect((await reserve('r5', 7)).kind).toBe('accepted'); // 10 - r2 - r3 - r4 = 7 seats were left
    const soldOut = await reserve('r6');
    expect(soldOut.kind === 'rejected' && soldOut.rejection.kind).toBe('insufficient_seats');
    const reused = await reserve('r1');
    expect(reused.kind === 'rejected' && reused.rejection.kind).toBe('reservation_conflict');
    const cancelledAgain = await service.handlers.cancelReservation({ conferenceId, reservationId: 'r1' });
    expect(cancelledAgain.kind === 'accepted' && cancelledAgain.appended).toBe(0);
    await service.snapshots.settle();
    const loaded = await loadSeatAvailability(service, conferenceId);
    expect(loaded.state).toEqual(await fullReplay(service, conferenceId));
  });

  it('writes a large state as of its version while later batches change the cached state', async () => {
    const size = 6 * RESERVATIONS_PER_TURN; // serialised over six turns of the event loop
    const service = createTestService(db.sql, {
      snapshotInterval: 2,
      batch: { maxBatch: size, maxQueue: size, idleEvictMs: 60_000, maxCached: 100 },
    });
    const conferenceId = newConferenceId();
    await service.handlers.createConference({
      conferenceId,
      name: 'Large',
      seatTypes: [{ type: 'standard', capacity: size }],
    });
    const ids = Array.from({ length: size }, (_, i) => `r${i}`);
    // One batch, one append: the snapshot falls due and starts serialising on the next turn...
    await Promise.all(
      ids.map((reservationId) =>
        service.handlers.reserveSeats({ conferenceId, reservationId, seats: [{ seatType: 'standard', quantity: 1 }] }),
      ),
    );
    // ...while the writer cancels reservations near the end of the state, which it reaches last.
    for (const reservationId of ids.slice(-3)) {
      expect((await service.handlers.cancelReservation({ conferenceId, reservationId })).kind).toBe('accepted');
    }
    await service.snapshots.settle();
    const stored = await storedSnapshot(conferenceId);
    expect(stored?.version).toBe(size + 1);
    const events = (await service.eventStore.readStream(streamIdOf(conferenceId))).map(toSeatAvailabilityEvent);
    expect(stored?.state).toEqual(evolveAll(events.slice(0, size + 1)));
    expect((await loadSeatAvailability(service, conferenceId)).state).toEqual(evolveAll(events));
  });
});
