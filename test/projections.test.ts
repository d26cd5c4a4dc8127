import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../src/database/connect.js';
import { createEventStore } from '../src/event-store/event-store.js';
import {
  createProjectors,
  PROJECTIONS,
  projectionLag,
  Projector,
  readCheckpoint,
  rebuildViews,
  remainingSeats,
  reservations,
  type ProjectorsOptions,
} from '../src/projections/index.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService, quietLog } from './support/service.js';
import { eventually, viewContents } from './support/views.js';

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql);
});
afterAll(() => db?.drop());

const created = (conferenceId: string, capacity = 10) => ({
  type: 'ConferenceCreated',
  data: {
    conferenceId,
    name: conferenceId,
    seatTypes: [{ type: 'standard', capacity }],
    createdAt: new Date().toISOString(),
  },
});

const reserved = (conferenceId: string, reservationId: string) => ({
  type: 'SeatsReserved',
  data: {
    conferenceId,
    reservationId,
    seats: [{ seatType: 'standard', quantity: 1 }],
    reservedAt: new Date().toISOString(),
  },
});

const projectors = (options: Partial<ProjectorsOptions> = {}) =>
  createProjectors({
    sql: db.sql,
    log: quietLog,
    batchSize: 100,
    seatsBatchSize: 100,
    pollIntervalMs: 200,
    ...options,
  });

/** Every projection's checkpoint, by name. */
const checkpoints = async () =>
  Object.fromEntries(
    await Promise.all(PROJECTIONS.map(async ({ name }) => [name, await readCheckpoint(db.sql, name)] as const)),
  );

/** The view must say what the aggregate says, for every seat type and every reservation. */
const expectViewsMatchAggregate = async (conferenceId: string) => {
  const strong = await service.bookings.availability(conferenceId, 'strong');
  const eventual = await service.bookings.availability(conferenceId, 'eventual');
  expect(eventual?.seatTypes).toEqual(strong?.seatTypes);
  expect(eventual?.position).toBe(strong?.position);
};

describe('projector', () => {
  it('applies an event whose transaction commits after one with a higher position', async () => {
    const store = createEventStore(db.sql);
    let commitLate: () => void = () => {};
    const lateCommitted = new Promise<void>((resolve) => (commitLate = resolve));
    let appendedEarly: () => void = () => {};
    const early = new Promise<void>((resolve) => (appendedEarly = resolve));

    // Connection 1 draws the LOWER position and keeps its transaction open...
    const late = db.sql.begin(async (tx) => {
      await createEventStore(tx).append(streamIdOf('late-commit'), 0, [
        created('late-commit'),
        reserved('late-commit', 'late-1'),
      ]);
      appendedEarly();
      await lateCommitted;
    });
    await early;
    // ...while connection 2 draws a HIGHER position and commits first.
    const first = await store.append(streamIdOf('early-commit'), 0, [created('early-commit')]);

    // A reader going by position alone now sees only the higher position and would pass over the lower one.
    // (Read just below the early commit: other tests' events come before, however many.)
    const visible = await store.readAll(first.position - 10, 100);
    const lowerPosition = first.position - 1; // the late reservation; its creation is one below
    expect(visible.map((e) => e.position)).toContain(first.position);
    expect(visible.map((e) => e.position)).not.toContain(lowerPosition);

    // Each projection holds back: neither applies either event until the older transaction has ended.
    await catchUp(service.projector);
    expect(await service.readModel.availability('early-commit')).toBeUndefined();
    for (const checkpoint of Object.values(await checkpoints()))
      expect(checkpoint.position).toBeLessThan(lowerPosition - 1);

    commitLate();
    await late;
    await catchUp(service.projector);
    expect(await service.readModel.availability('late-commit')).toMatchObject({
      position: lowerPosition,
      seatTypes: [expect.objectContaining({ reserved: 1 })],
    });
    expect(await service.readModel.reservation('late-commit', 'late-1')).toMatchObject({ status: 'reserved' });
    expect(await service.readModel.availability('early-commit')).toMatchObject({ position: first.position });
  });

  it('converges to the aggregate after a burst of 500 concurrent reservations and cancels', async () => {
    const conferenceId = 'burst';
    await service.handlers.createConference({
      conferenceId,
      name: 'Burst',
      seatTypes: [
        { type: 'standard', capacity: 300 },
        { type: 'vip', capacity: 40 },
      ],
    });
    const projector = projectors().start();
    try {
      await Promise.allSettled(
        Array.from({ length: 500 }, (_, i) =>
          i % 5 === 4
            ? service.handlers.cancelReservation({ conferenceId, reservationId: `b-${i - 4}` })
            : service.handlers.reserveSeats({
                conferenceId,
                reservationId: `b-${i}`,
                seats: [{ seatType: i % 3 === 0 ? 'vip' : 'standard', quantity: 1 + (i % 2) }],
              }),
        ),
      );
      await eventually(() => expectViewsMatchAggregate(conferenceId));
      await eventually(async () => {
        const [row] = await db.sql<{ live: number }[]>`
          select count(*)::int as live from reservations_view where conference_id = ${conferenceId} and status = 'reserved'`;
        const state = (await service.bookings.availability(conferenceId, 'strong'))!;
        const reservedSeats = state.seatTypes.reduce((sum, s) => sum + s.reserved, 0);
        const [seats] = await db.sql<{ total: number }[]>`
          select coalesce(sum((s->>'quantity')::int), 0)::int as total
          from reservations_view, jsonb_array_elements(seats) s
          where conference_id = ${conferenceId} and status = 'reserved'`;
        expect(seats?.total).toBe(reservedSeats);
        expect(row?.live).toBeGreaterThan(0);
      });
      await eventually(async () =>
        expect(await projector.lag()).toEqual({
          remaining_seats: { events: 0, milliseconds: 0 },
          reservations: { events: 0, milliseconds: 0 },
        }),
      );
    } finally {
      await projector.stop();
    }
  });

  it('resumes each projection from its own checkpoint after a stop between batches; a crash inside a batch applies nothing', async () => {
    const conferenceId = 'resume';
    await service.handlers.createConference({
      conferenceId,
      name: 'Resume',
      seatTypes: [{ type: 'standard', capacity: 1000 }],
    });
    for (let i = 0; i < 150; i++) {
      await service.handlers.reserveSeats({
        conferenceId,
        reservationId: `s-${i}`,
        seats: [{ seatType: 'standard', quantity: 2 }],
      });
      if (i % 4 === 0) await service.handlers.cancelReservation({ conferenceId, reservationId: `s-${i}` });
    }
    await catchUp(service.projector); // start level with everything before this test's burst
    for (let i = 150; i < 300; i++) {
      await service.handlers.reserveSeats({
        conferenceId,
        reservationId: `s-${i}`,
        seats: [{ seatType: 'standard', quantity: 1 }],
      });
    }

    // A crash between reading and committing, in either projection: the batch rolls back, its
    // checkpoint and every view unchanged.
    const before = await checkpoints();
    const viewsBefore = await viewContents(db.sql);
    for (const projection of PROJECTIONS) {
      const crashing = new Projector({
        sql: db.sql,
        log: quietLog,
        projection,
        batchSize: 20,
        pollIntervalMs: 50,
        beforeCommit: () => {
          throw new Error('process died');
        },
      });
      await expect(crashing.applyNextBatch()).rejects.toThrow('process died');
    }
    expect(await checkpoints()).toEqual(before);
    expect(await viewContents(db.sql)).toEqual(viewsBefore);

    // Each projection stopped between batches part-way through, at a different batch: asked to
    // stop right after its `stopAfter`th batch, so it cannot race to the end before the test looks.
    const stopAfter = { [remainingSeats.name]: 2, [reservations.name]: 1 };
    for (const projection of PROJECTIONS) {
      let batches = 0;
      let stopping: Promise<void> | undefined;
      const first: Projector = new Projector({
        sql: db.sql,
        log: quietLog,
        projection,
        batchSize: 20,
        pollIntervalMs: 50,
        onApplied: () => {
          batches += 1;
          if (batches === stopAfter[projection.name]) stopping = first.stop();
        },
      }).start();
      await eventually(async () => expect(stopping).toBeDefined(), 10_000);
      await stopping;
      expect(batches).toBe(stopAfter[projection.name]);
      expect((await first.lag()).events).toBeGreaterThan(0);
    }
    const stoppedAt = await checkpoints();
    for (const { name } of PROJECTIONS) expect(stoppedAt[name]!.position).toBeGreaterThan(before[name]!.position);
    expect(stoppedAt[remainingSeats.name]).not.toEqual(stoppedAt[reservations.name]);

    // ...and new instances resume each from its own checkpoint: no event lost, none applied twice.
    const second = projectors({ batchSize: 20, seatsBatchSize: 20, pollIntervalMs: 50 }).start();
    try {
      await eventually(async () => {
        const lag = await second.lag();
        expect([lag.remaining_seats?.events, lag.reservations?.events]).toEqual([0, 0]);
      });
    } finally {
      await second.stop();
    }
    await expectViewsMatchAggregate(conferenceId);
    const live = await viewContents(db.sql);
    for (const projection of PROJECTIONS) await rebuildViews({ sql: db.sql, log: quietLog, projection, batchSize: 37 });
    expect(await viewContents(db.sql)).toEqual(live);
  });

  it('keeps the remaining seats live while the reservations projection is stopped, and both converge when it restarts', async () => {
    const conferenceId = 'one-stopped';
    await service.handlers.createConference({
      conferenceId,
      name: 'One stopped',
      seatTypes: [{ type: 'standard', capacity: 500 }],
    });
    const running = projectors().start();
    try {
      await running.reservations.stop();
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          service.handlers.reserveSeats({
            conferenceId,
            reservationId: `o-${i}`,
            seats: [{ seatType: 'standard', quantity: 1 }],
          }),
        ),
      );
      await eventually(() => expectViewsMatchAggregate(conferenceId));
      expect((await running.lag()).reservations?.events).toBeGreaterThanOrEqual(200);
      expect(await service.readModel.reservation(conferenceId, 'o-199')).toBeUndefined();

      running.reservations.start();
      await eventually(async () => expect((await running.lag()).reservations?.events).toBe(0));
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from reservations_view where conference_id = ${conferenceId} and status = 'reserved'`;
      expect(row?.n).toBe(200);
      await expectViewsMatchAggregate(conferenceId);
    } finally {
      await running.stop();
    }
  });

  it('counts as lag what the checkpoint has not passed when the count runs, not when the lag was first read', async () => {
    const conferenceId = 'lag-count';
    await service.handlers.createConference({
      conferenceId,
      name: 'Lag count',
      seatTypes: [{ type: 'standard', capacity: 150 }],
    });
    const byHand = projectors();
    await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        service.handlers.reserveSeats({
          conferenceId,
          reservationId: `l-${i}`,
          seats: [{ seatType: 'standard', quantity: 1 }],
        }),
      ),
    );
    expect((await projectionLag(db.sql, remainingSeats)).events).toBeGreaterThanOrEqual(150);
    // The projector applies every event between the lag's read of the checkpoint and its count,
    // as it does while a busy event loop keeps the count waiting.
    let first = true;
    const catchUpAfterFirstStatement = ((strings: TemplateStringsArray, ...values: never[]) => {
      const statement = db.sql(strings, ...values);
      if (!first) return statement;
      first = false;
      return statement.then(async (rows) => {
        await catchUp(byHand.seats);
        return rows;
      });
    }) as unknown as Sql;
    expect(await projectionLag(catchUpAfterFirstStatement, remainingSeats)).toEqual({ events: 0, milliseconds: 0 });
    await expectViewsMatchAggregate(conferenceId);
  });

  it('lets only one of two instances apply events at a time, and the other takes over when it stops', async () => {
    const otherPool = connect(db.url, 3);
    const options = { batchSize: 50, seatsBatchSize: 50, pollIntervalMs: 50 };
    const a = projectors(options).start();
    const b = projectors({ ...options, sql: otherPool }).start();
    // One holder of each projection's leader lock.
    const leaderLocks = async () => {
      const rows = await db.sql<{ n: number }[]>`
        select count(*)::int as n from pg_locks
        where locktype = 'advisory' and granted and objid in ${db.sql(PROJECTIONS.map((p) => p.locks.leader))}
        group by objid`;
      return rows.map((row) => row.n);
    };
    try {
      const conferenceId = 'two-projectors';
      await service.handlers.createConference({
        conferenceId,
        name: 'Two',
        seatTypes: [{ type: 'standard', capacity: 500 }],
      });
      await eventually(async () => expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1));
      await eventually(async () => expect(await leaderLocks()).toEqual([1, 1]));
      await Promise.all(
        Array.from({ length: 120 }, (_, i) =>
          service.handlers.reserveSeats({
            conferenceId,
            reservationId: `t-${i}`,
            seats: [{ seatType: 'standard', quantity: 1 }],
          }),
        ),
      );
      expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
      expect(await leaderLocks()).toEqual([1, 1]);
      await eventually(() => expectViewsMatchAggregate(conferenceId));

      const [leader, follower] = a.isLeader ? [a, b] : [b, a];
      await leader.stop();
      await eventually(async () => expect(follower.isLeader).toBe(true));
      expect(await leaderLocks()).toEqual([1, 1]);
      await service.handlers.reserveSeats({
        conferenceId,
        reservationId: 't-after',
        seats: [{ seatType: 'standard', quantity: 5 }],
      });
      await eventually(() => expectViewsMatchAggregate(conferenceId));
      expect((await service.bookings.availability(conferenceId, 'eventual'))?.seatTypes[0]?.reserved).toBe(125);
    } finally {
      await a.stop();
      await b.stop();
      await otherPool.end({ timeout: 5 });
    }
  });
});

describe("a projector's batch", () => {
  it('applies every event exactly once while two instances race batches of both projections and 300 commands race at one conference', async () => {
    const before = Object.fromEntries(
      await Promise.all(
        PROJECTIONS.map(async (projection) => [projection.name, await projectionLag(db.sql, projection)] as const),
      ),
    );
    const conferenceId = 'racing-batches';
    await service.handlers.createConference({
      conferenceId,
      name: 'Racing batches',
      seatTypes: [
        { type: 'standard', capacity: 150 },
        { type: 'vip', capacity: 20 },
      ],
    });
    const otherPool = connect(db.url, 3);
    // No leader: each instance takes batches at will, as two leaders would for as long as one
    // has not noticed it lost its lock. Each counts what its batches applied.
    const applied = new Map<string, number>();
    const instances = PROJECTIONS.flatMap((projection) =>
      [db.sql, otherPool].map(
        (sql) =>
          new Projector({
            sql,
            log: quietLog,
            projection,
            batchSize: 7,
            pollIntervalMs: 50,
            onApplied: (count) => applied.set(projection.name, (applied.get(projection.name) ?? 0) + count),
          }),
      ),
    );
    let racing = true;
    const batches = instances.map(async (instance) => {
      while (racing) await instance.applyNextBatch();
    });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 300 }, (_, i) =>
          i % 6 === 5
            ? service.handlers.cancelReservation({ conferenceId, reservationId: `rb-${i - 5}` })
            : service.handlers.reserveSeats({
                conferenceId,
                reservationId: `rb-${i}`,
                seats: [{ seatType: i % 4 === 0 ? 'vip' : 'standard', quantity: 1 }],
              }),
        ),
      );
      expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    } finally {
      racing = false;
      await Promise.all(batches);
    }
    // The stragglers, one instance at a time.
    for (const instance of instances) while ((await instance.applyNextBatch()) > 0);
    await otherPool.end({ timeout: 5 });

    const [{ events } = { events: 0 }] = await db.sql<{ events: number }[]>`
      select count(*)::int as events from events where stream_id = ${streamIdOf(conferenceId)}`;
    const state = (await service.bookings.availability(conferenceId, 'strong'))!;
    expect(state.seatTypes.find((seat) => seat.type === 'vip')?.remaining).toBe(0);
    for (const projection of PROJECTIONS) {
      // What was waiting before (earlier tests' events) plus this conference's: each once.
      expect(applied.get(projection.name)).toBe(before[projection.name]!.events + events);
      expect(await projectionLag(db.sql, projection)).toEqual({ events: 0, milliseconds: 0 });
    }
    await expectViewsMatchAggregate(conferenceId);
    const [row] = await db.sql<{ reserved: number; cancelled: number }[]>`
      select count(*) filter (where status = 'reserved')::int as reserved,
        count(*) filter (where status = 'cancelled')::int as cancelled
      from reservations_view where conference_id = ${conferenceId}`;
    const reservedSeats = state.seatTypes.reduce((sum, seat) => sum + seat.reserved, 0);
    expect(row?.reserved).toBe(reservedSeats);
    expect(row!.reserved + row!.cancelled).toBe(
      (await db.sql`select 1 from events where stream_id = ${streamIdOf(conferenceId)} and type = 'SeatsReserved'`)
        .length,
    );
  });

  it('commits nothing when a statement of its last round trip fails, and leaves its connection fit for the next batch', async () => {
    const conferenceId = 'failing-batch';
    await projectors().applyNextBatch(); // Level with the earlier tests.
    await service.handlers.createConference({
      conferenceId,
      name: 'Failing batch',
      seatTypes: [{ type: 'standard', capacity: 10 }],
    });
    await service.handlers.reserveSeats({
      conferenceId,
      reservationId: 'fb-1',
      seats: [{ seatType: 'standard', quantity: 2 }],
    });
    // One connection: a batch that left it inside a transaction, aborted or not, would fail the next.
    const onePool = connect(db.url, 1);
    try {
      const failing = new Projector({
        sql: onePool,
        log: quietLog,
        projection: remainingSeats,
        batchSize: 100,
        pollIntervalMs: 50,
        // Sent after the views' statements and the checkpoint, before the COMMIT behind them.
        announce: (tx) => tx`select 1 / 0`,
      });
      const checkpointBefore = await readCheckpoint(db.sql, remainingSeats.name);
      const viewsBefore = await viewContents(db.sql);
      await expect(failing.applyNextBatch()).rejects.toThrow(/division by zero/);
      expect(await readCheckpoint(db.sql, remainingSeats.name)).toEqual(checkpointBefore);
      expect(await viewContents(db.sql)).toEqual(viewsBefore);

      const working = new Projector({
        sql: onePool,
        log: quietLog,
        projection: remainingSeats,
        batchSize: 100,
        pollIntervalMs: 50,
      });
      expect(await working.applyNextBatch()).toBe(2);
      const [open] = await onePool<{ open: boolean }[]>`select pg_current_xact_id_if_assigned() is not null as open`;
      expect(open?.open).toBe(false);
      expect((await service.bookings.availability(conferenceId, 'eventual'))?.seatTypes[0]?.remaining).toBe(8);
    } finally {
      await onePool.end({ timeout: 5 });
    }
  });
});

describe('rebuild', () => {
  it('rebuilds views equal to the live ones while readers keep seeing full views', async () => {
    // Its own events, whatever ran before: a conference and a reservation for every view to hold.
    await service.handlers.createConference({
      conferenceId: 'rebuild-own',
      name: 'Rebuild',
      seatTypes: [{ type: 'standard', capacity: 10 }],
    });
    await service.handlers.reserveSeats({
      conferenceId: 'rebuild-own',
      reservationId: 'rebuild-own-1',
      seats: [{ seatType: 'standard', quantity: 1 }],
    });
    await catchUp(service.projector);
    const live = await viewContents(db.sql);
    expect(live.conferences.length).toBeGreaterThan(0);

    // Readers during the rebuild never see an empty view.
    let rebuilding = true;
    const emptyReads: number[] = [];
    const reader = (async () => {
      while (rebuilding) {
        const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from seat_availability_view`;
        if (!row?.n) emptyReads.push(Date.now());
      }
    })();
    const results = [];
    for (const projection of PROJECTIONS)
      results.push(await rebuildViews({ sql: db.sql, log: quietLog, projection, batchSize: 50 }));
    rebuilding = false;
    await reader;

    expect(emptyReads).toEqual([]);
    for (const result of results) expect(result.events).toBeGreaterThan(0);
    expect(await viewContents(db.sql)).toEqual(live);
    expect(await db.sql`select tablename from pg_tables where tablename like 'rebuild_%'`).toHaveLength(0);
  });
});

describe('rebuild of one projection', () => {
  it("leaves the other projection's checkpoint and views alone", async () => {
    await catchUp(service.projector);
    const live = await viewContents(db.sql);
    const before = await checkpoints();
    // The reservations view behind its checkpoint (rows lost): only its own rebuild may repair it.
    await db.sql`delete from reservations_view where reservation_id like 'b-%'`;
    const damaged = (await viewContents(db.sql)).reservations;

    await rebuildViews({ sql: db.sql, log: quietLog, projection: remainingSeats, batchSize: 50 });
    expect(await checkpoints()).toEqual(before);
    const afterSeats = await viewContents(db.sql);
    expect(afterSeats.reservations).toEqual(damaged);
    expect({ conferences: afterSeats.conferences, seats: afterSeats.seats }).toEqual({
      conferences: live.conferences,
      seats: live.seats,
    });

    await rebuildViews({ sql: db.sql, log: quietLog, projection: reservations, batchSize: 50 });
    expect((await checkpoints())[remainingSeats.name]).toEqual(before[remainingSeats.name]);
    expect(await viewContents(db.sql)).toEqual(live);
  });
});

describe('point-in-time reads', () => {
  it('replays the stream up to a time: full capacity before the first reservation, exact counts between events', async () => {
    const conferenceId = 'as-of';
    const tick = () => new Promise((next) => setTimeout(next, 5)); // distinct recording times, not a wait for a projector
    await service.handlers.createConference({
      conferenceId,
      name: 'As of',
      seatTypes: [{ type: 'standard', capacity: 10 }],
    });
    await tick();
    await service.handlers.reserveSeats({
      conferenceId,
      reservationId: 'a1',
      seats: [{ seatType: 'standard', quantity: 3 }],
    });
    await tick();
    await service.handlers.reserveSeats({
      conferenceId,
      reservationId: 'a2',
      seats: [{ seatType: 'standard', quantity: 4 }],
    });
    await tick();
    await service.handlers.cancelReservation({ conferenceId, reservationId: 'a1' });

    const events = await service.eventStore.readStream(streamIdOf(conferenceId));
    const justAfter = (i: number) => new Date(events[i]!.recordedAt.getTime() + 1);
    const reservedAsOf = async (asOf: Date) =>
      (await service.bookings.availabilityAsOf!(conferenceId, asOf))?.seatTypes[0]?.reserved;

    expect(
      await service.bookings.availabilityAsOf!(conferenceId, new Date(events[0]!.recordedAt.getTime() - 1000)),
    ).toBeUndefined();
    expect(await reservedAsOf(justAfter(0))).toBe(0);
    expect(await reservedAsOf(justAfter(1))).toBe(3);
    expect(await reservedAsOf(justAfter(2))).toBe(7);
    expect(await reservedAsOf(justAfter(3))).toBe(4);
    // The time an event is shown with (milliseconds; stored in microseconds) includes that event.
    expect(await reservedAsOf(events[1]!.recordedAt)).toBe(3);
    expect(await reservedAsOf(new Date(events[1]!.recordedAt.getTime() - 1))).toBe(0);
  });
});
