import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  toSeatAvailabilityEvent,
} from '../src/command-handlers/index.js';
import { evolveAll, streamIdOf } from '../src/seat-availability/index.js';
import { fromSnapshot, snapshotDue, SNAPSHOT_SCHEMA_VERSION, writeSnapshot } from '../src/snapshots/index.js';
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
  await service.snapshots.settle();
  await playSteps(service, conferenceId, steps);
};

type Step = { cancel: boolean; id: number; quantity: number };

/** Reserves and cancels through the real handlers, one step at a time. */
const playSteps = async (service: ReturnType<typeof createTestService>, conferenceId: string, steps: Step[]) => {
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
};

/** The latest stored snapshot of a conference, read back into a state, and its size. */
const storedSnapshot = async (conferenceId: string) => {
  const [row] = await db.sql<{ version: number; state: Parameters<typeof fromSnapshot>[0]; bytes: number }[]>`
    select version, state, octet_length(state::text) as bytes from snapshots
    where stream_id = ${streamIdOf(conferenceId)} order by version desc limit 1`;
  return row && { version: row.version, state: fromSnapshot(row.state), bytes: row.bytes };
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

          // The snapshot was really used: the latest is at the last multiple of the interval
          // crossed, and every earlier one is kept.
          const kept = await db.sql<{ version: number }[]>`
            select version from snapshots where stream_id = ${streamIdOf(conferenceId)} order by version`;
          const multiples = Array.from({ length: Math.floor(loaded.version / interval) }, (_, i) => (i + 1) * interval);
          expect(kept.map((k) => k.version)).toEqual(multiples);
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

  it('stores the seat counts alone: a snapshot stays the same size however many reservations were made', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 50 });
    const conferenceId = newConferenceId();
    await service.handlers.createConference({
      conferenceId,
      name: 'Many reservations',
      seatTypes: [{ type: 'standard', capacity: 10_000 }],
    });
    const reserve = (i: number) =>
      service.handlers.reserveSeats({
        conferenceId,
        reservationId: `r${i}`,
        seats: [{ seatType: 'standard', quantity: 1 }],
      });
    for (let i = 0; i < 49; i++) await reserve(i);
    await service.snapshots.settle();
    const early = await storedSnapshot(conferenceId);
    for (let i = 49; i < 499; i++) await reserve(i);
    await service.snapshots.settle();
    const late = await storedSnapshot(conferenceId);
    expect(early?.version).toBe(50);
    expect(late?.version).toBe(500);
    expect(late?.state).toEqual({
      status: 'open',
      conferenceId,
      name: 'Many reservations',
      seatTypes: new Map([['standard', { capacity: 10_000, reserved: 499, held: 0 }]]),
    });
    expect(late!.bytes).toBeLessThan(120);
    expect(late!.bytes - early!.bytes).toBeLessThanOrEqual(1); // "49" became "499"
  });

  it('answers a point in time from the latest snapshot at or before it plus the events after that', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 4 });
    const conferenceId = newConferenceId();
    const steps = Array.from({ length: 30 }, (_, i) => ({
      cancel: i % 5 === 4,
      id: i % 5 === 4 ? i - 2 : i,
      quantity: 1 + (i % 6),
    }));
    await playHistory(service, conferenceId, steps.slice(0, 15));
    const events = await service.eventStore.readStream(streamIdOf(conferenceId));
    const middle = events.at(-1)!.recordedAt;
    await new Promise((later) => setTimeout(later, 5)); // later events are recorded after `middle`
    await playSteps(service, conferenceId, steps.slice(15));
    await service.snapshots.settle();

    // Which events the read asks the store for: it must start from a snapshot, not the first event.
    const reads: { afterVersion?: number; upToVersion?: number | undefined }[] = [];
    const eventStore = {
      ...service.eventStore,
      readStream: (streamId: string, options: Parameters<typeof service.eventStore.readStream>[1] = {}) => {
        reads.push(options);
        return service.eventStore.readStream(streamId, options);
      },
    };
    const asOf = await loadSeatAvailabilityAsOf({ eventStore, snapshots: service.snapshots }, conferenceId, middle);
    expect(asOf.version).toBe(events.length);
    expect(asOf.state).toEqual(evolveAll(events.map(toSeatAvailabilityEvent)));
    expect(reads).toMatchObject([{ afterVersion: Math.floor(events.length / 4) * 4, upToVersion: events.length }]);
    expect((await loadSeatAvailability(service, conferenceId)).version).toBeGreaterThan(events.length);
  });
});
