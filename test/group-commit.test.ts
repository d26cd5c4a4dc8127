import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeGroup, type CommandOutcome } from '../src/command-handlers/index.js';
import { connect } from '../src/database/connect.js';
import { KeysExistError } from '../src/event-store/keys-exist-error.js';
import { VersionConflictError } from '../src/event-store/version-conflict-error.js';
import type { Metrics } from '../src/metrics.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService } from './support/service.js';
import { viewContents } from './support/views.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const standard = (quantity: number) => [{ seatType: 'standard', quantity }];

/** How many appends a histogram observed, and the sum of what they carried. */
const observed = async (histogram: Metrics['appendConferences']) => {
  const { name, values } = await histogram.get();
  const value = (suffix: string) => values.find((v) => v.metricName === `${name}_${suffix}`)?.value ?? 0;
  return { appends: value('count'), carried: value('sum') };
};

const outcomeOf = (outcome: CommandOutcome) =>
  outcome.kind === 'rejected' ? outcome.rejection.kind : outcome.appended > 0 ? 'accepted' : 'repeated';

/** Every stream's versions run 1..n, and the global positions have no gaps. */
const expectStoreIntact = async () => {
  const [positions] = await db.sql<{ count: number; max: number }[]>`
    select count(*)::int as count, coalesce(max(position), 0)::int as max from events`;
  expect(positions?.count).toBe(positions?.max);
  const broken = await db.sql`
    select s.stream_id from streams s join events e using (stream_id)
    group by s.stream_id, s.version
    having count(*) <> s.version or max(e.stream_version) <> s.version`;
  expect(broken).toEqual([]);
};

describe('takeGroup', () => {
  const append = (streamId: string, events = 1) => ({
    append: { streamId, events: Array.from({ length: events }, () => ({ type: 'SeatsReserved', data: {} })) },
  });
  const ids = (items: { append: { streamId: string } }[]) => items.map((item) => item.append.streamId);

  it.each([
    {
      limits: { maxConferences: 3, maxEvents: 100 },
      waiting: ['a', 'b', 'c', 'd'],
      group: ['a', 'b', 'c'],
      rest: ['d'],
    },
    { limits: { maxConferences: 10, maxEvents: 100 }, waiting: ['a'], group: ['a'], rest: [] },
    {
      limits: { maxConferences: 10, maxEvents: 100 },
      waiting: ['a', 'b', 'a', 'c'],
      group: ['a', 'b', 'c'],
      rest: ['a'],
    },
  ])(
    'takes the oldest waiting appends up to the limits, one per stream: $waiting',
    ({ limits, waiting, group, rest }) => {
      const taken = takeGroup(
        waiting.map((id) => append(id)),
        limits,
      );
      expect(ids(taken.group)).toEqual(group);
      expect(ids(taken.rest)).toEqual(rest);
    },
  );

  it('bounds the events of a group, but sends an append larger than the bound alone', () => {
    const taken = takeGroup([append('big', 50), append('b', 5), append('c', 1)], { maxConferences: 10, maxEvents: 10 });
    expect(ids(taken.group)).toEqual(['big']);
    const next = takeGroup(taken.rest, { maxConferences: 10, maxEvents: 5 });
    expect(ids(next.group)).toEqual(['b']);
    expect(ids(next.rest)).toEqual(['c']);
  });
});

describe('appending to many streams in one statement', () => {
  it('commits the streams whose conditions hold and reports each failed one, drawing no positions for them', async () => {
    const service = createTestService(db.sql);
    const store = service.eventStore;
    const event = (conferenceId: string, reservationId: string) => ({
      type: 'SeatsReserved',
      data: { conferenceId, reservationId, seats: standard(1), reservedAt: new Date().toISOString() },
      key: reservationId,
    });
    for (const id of ['m1', 'm2', 'm3', 'm4']) await store.append(streamIdOf(id), 0, [event(id, 'first')]);

    const outcomes = await store.appendStreams([
      {
        streamId: streamIdOf('m1'),
        expectedVersion: 1,
        events: [event('m1', 'a'), event('m1', 'b')],
        newKeys: ['a', 'b'],
      },
      { streamId: streamIdOf('m2'), expectedVersion: 7, events: [event('m2', 'a')], newKeys: ['a'] },
      { streamId: streamIdOf('m3'), expectedVersion: 1, events: [event('m3', 'first')], newKeys: ['first'] },
      { streamId: streamIdOf('m4'), expectedVersion: 1, events: [event('m4', 'a')], newKeys: ['a'] },
      { streamId: streamIdOf('m5'), expectedVersion: 0, events: [event('m5', 'a')], newKeys: [] },
      { streamId: streamIdOf('m1-again'), expectedVersion: 3, events: [event('x', 'a')], newKeys: [] },
    ]);

    expect(outcomes[0]).toMatchObject({ version: 3 });
    expect(outcomes[1]).toBeInstanceOf(VersionConflictError);
    expect(outcomes[2]).toBeInstanceOf(KeysExistError);
    expect((outcomes[2] as KeysExistError).events.map((e) => e.streamVersion)).toEqual([1]);
    expect(outcomes[3]).toMatchObject({ version: 2 });
    expect(outcomes[4]).toMatchObject({ version: 1 });
    expect(outcomes[5]).toBeInstanceOf(VersionConflictError); // a stream that does not exist is not at version 3
    expect(await store.streamVersion(streamIdOf('m2'))).toBe(1);
    expect(await store.streamVersion(streamIdOf('m3'))).toBe(1);
    // A stream's events take consecutive positions, in its version order.
    const m1 = await store.readStream(streamIdOf('m1'));
    expect(m1.map((e) => e.position - m1[1]!.position)).toEqual([m1[0]!.position - m1[1]!.position, 0, 1]);
    await expectStoreIntact();
  });
  it('never deadlocks when statements carry the same streams in different orders at once', async () => {
    const pools = Array.from({ length: 4 }, () => connect(db.url, 1));
    try {
      const stores = pools.map((pool) => createTestService(pool).eventStore);
      const streams = Array.from({ length: 12 }, (_, i) => streamIdOf(`order-${i}`));
      const event = {
        type: 'SeatsReserved',
        data: { conferenceId: 'order', reservationId: 'o', seats: standard(1), reservedAt: new Date().toISOString() },
      };
      for (const streamId of streams) await stores[0]!.append(streamId, 0, [event]);
      for (let round = 0; round < 25; round++) {
        const versions = await Promise.all(streams.map((streamId) => stores[0]!.streamVersion(streamId)));
        // Each statement claims every stream, in an order of its own; the first to lock a stream wins it.
        const outcomes = await Promise.all(
          stores.map((store, k) =>
            store.appendStreams(
              streams
                .map((streamId, i) => ({
                  streamId,
                  expectedVersion: versions[i]!,
                  events: [event],
                  newKeys: [],
                }))
                .sort(() => (k % 2 === 0 ? Math.random() - 0.5 : 0))
                .reverse(),
            ),
          ),
        );
        const won = outcomes.flat().filter((outcome) => !(outcome instanceof Error)).length;
        expect(won).toBe(streams.length);
      }
      await expectStoreIntact();
    } finally {
      await Promise.all(pools.map((pool) => pool.end({ timeout: 5 })));
    }
  });
});

describe('group commit across conferences', () => {
  /** Holds the row of a stream locked until `release()`: an append to it waits, in flight. */
  const holdStream = async (conferenceId: string) => {
    let release = () => {};
    let locked = () => {};
    const isLocked = new Promise<void>((done) => (locked = done));
    const released = new Promise<void>((done) => (release = done));
    const transaction = db.sql.begin(async (tx) => {
      await tx`select 1 from streams where stream_id = ${streamIdOf(conferenceId)} for update`;
      locked();
      await released;
    });
    await isLocked;
    return async () => {
      release();
      await transaction;
    };
  };
  const create = (service: ReturnType<typeof createTestService>, conferenceId: string, capacity = 1000) =>
    service.handlers.createConference({
      conferenceId,
      name: conferenceId,
      seatTypes: [{ type: 'standard', capacity }],
    });

  it('appends the batches that wait together in one statement, and decides again only the conflicting one', async () => {
    const service = createTestService(db.sql, {
      groupCommit: { appendsInFlight: 1, maxConferences: 64, maxEvents: 2048, aloneFromEvents: 0 },
    });
    const h = service.handlers;
    const quiet = Array.from({ length: 12 }, (_, i) => `quiet-${i}`);
    for (const id of ['held', 'stale', ...quiet]) await create(service, id);
    // Every writer has its conference cached; then another process moves 'stale' behind its back.
    for (const id of ['held', 'stale', ...quiet])
      await h.reserveSeats({ conferenceId: id, reservationId: 'warm', seats: standard(1) });
    const other = createTestService(db.sql);
    expect(
      outcomeOf(
        await other.directHandlers.reserveSeats({
          conferenceId: 'stale',
          reservationId: 'elsewhere',
          seats: standard(1),
        }),
      ),
    ).toBe('accepted');

    const release = await holdStream('held');
    const before = await observed(service.metrics.appendConferences);
    const conflictsBefore = (await service.metrics.versionConflicts.get()).values[0]?.value ?? 0;
    const first = h.reserveSeats({ conferenceId: 'held', reservationId: 'r', seats: standard(1) });
    await new Promise((next) => setImmediate(next)); // its append is in flight, waiting on the lock
    const rest = ['stale', ...quiet].map((conferenceId) =>
      h.reserveSeats({ conferenceId, reservationId: 'r', seats: standard(2) }),
    );
    await new Promise((next) => setImmediate(next));
    await release();
    const outcomes = await Promise.all([first, ...rest]);

    expect(outcomes.map(outcomeOf)).toEqual(outcomes.map(() => 'accepted'));
    const after = await observed(service.metrics.appendConferences);
    // The held conference alone; then the 13 waiting together; then 'stale' alone, decided again.
    expect(after.appends - before.appends).toBe(3);
    expect(after.carried - before.carried).toBe(1 + 13 + 1);
    expect(((await service.metrics.versionConflicts.get()).values[0]?.value ?? 0) - conflictsBefore).toBe(1);
    for (const id of ['stale', ...quiet]) {
      const events = await service.eventStore.readStream(streamIdOf(id));
      const reserved = events
        .filter((e) => e.type === 'SeatsReserved')
        .map((e) => (e.data as { reservationId: string }).reservationId);
      expect(reserved).toEqual(id === 'stale' ? ['warm', 'elsewhere', 'r'] : ['warm', 'r']);
    }
    await expectStoreIntact();
  });

  it('sends a lone batch at once, without waiting for company', async () => {
    const service = createTestService(db.sql);
    for (let i = 0; i < 5; i++) await create(service, `lone-${i}`);
    const before = await observed(service.metrics.appendConferences);
    for (let i = 0; i < 5; i++) {
      const outcome = await service.handlers.reserveSeats({
        conferenceId: `lone-${i}`,
        reservationId: 'r',
        seats: standard(1),
      });
      expect(outcomeOf(outcome)).toBe('accepted');
    }
    const after = await observed(service.metrics.appendConferences);
    expect(after.appends - before.appends).toBe(5);
    expect(after.carried - before.carried).toBe(5);
  });

  it("sends a hot conference's batch at once on its own while every grouped append is busy", async () => {
    const service = createTestService(db.sql, {
      groupCommit: { appendsInFlight: 1, maxConferences: 64, maxEvents: 2048, aloneFromEvents: 5 },
    });
    const h = service.handlers;
    const quiet = ['alone-q1', 'alone-q2', 'alone-q3'];
    for (const id of ['alone-held', 'alone-hot', ...quiet]) await create(service, id);
    for (const id of ['alone-held', 'alone-hot', ...quiet])
      await h.reserveSeats({ conferenceId: id, reservationId: 'warm', seats: standard(1) });

    const release = await holdStream('alone-held');
    const before = await observed(service.metrics.appendConferences);
    const held = h.reserveSeats({ conferenceId: 'alone-held', reservationId: 'r', seats: standard(1) });
    await new Promise((next) => setImmediate(next)); // the only grouped append is in flight, waiting on the lock
    const hot = Array.from({ length: 8 }, (_, k) =>
      h.reserveSeats({ conferenceId: 'alone-hot', reservationId: `hot-${k}`, seats: standard(1) }),
    );
    const rest = quiet.map((conferenceId) => h.reserveSeats({ conferenceId, reservationId: 'r', seats: standard(1) }));
    // The hot batch (8 events) commits while the grouped append is still held...
    const hotOutcomes = await Promise.race([
      Promise.all(hot),
      new Promise<'still waiting'>((done) => setTimeout(done, 5000, 'still waiting')),
    ]);
    expect(hotOutcomes === 'still waiting' ? hotOutcomes : hotOutcomes.map(outcomeOf)).toEqual(
      hot.map(() => 'accepted'),
    );
    await release();
    const outcomes = await Promise.all([held, ...rest]);
    expect(outcomes.map(outcomeOf)).toEqual(outcomes.map(() => 'accepted'));
    const after = await observed(service.metrics.appendConferences);
    // ...on its own; then the held one finishes, and the 3 quiet ones that waited go together.
    expect(after.appends - before.appends).toBe(3);
    expect(after.carried - before.carried).toBe(1 + 1 + 3);
    await expectStoreIntact();
  });

  it('sells exactly the capacity of each of many conferences and of a hot one when two processes race at all of them', async () => {
    const poolA = connect(db.url, 4);
    const poolB = connect(db.url, 4);
    try {
      // The hot conference's batches (6 events or more) go alone; the quiet ones' (5 seats) are grouped.
      const small = { appendsInFlight: 2, maxConferences: 64, maxEvents: 2048, aloneFromEvents: 6 };
      const a = createTestService(poolA, { groupCommit: small });
      const b = createTestService(poolB, { groupCommit: small });
      const ids = Array.from({ length: 40 }, (_, i) => `race-${i}`);
      const capacity = (id: string) => (id === 'race-hot' ? 150 : 5);
      for (const id of [...ids, 'race-hot']) await create(a, id, capacity(id));
      const attempts = [
        ...ids.flatMap((conferenceId) =>
          Array.from({ length: 16 }, (_, k) => ({ conferenceId, reservationId: `r${k}`, seats: standard(1) })),
        ),
        ...Array.from({ length: 400 }, (_, k) => ({
          conferenceId: 'race-hot',
          reservationId: `h${k}`,
          seats: standard(1),
        })),
      ];
      ids.push('race-hot');
      // Shuffled, and each command sent to one process or the other.
      attempts.sort(() => Math.random() - 0.5);
      const outcomes = await Promise.all(
        attempts.map((input, i) => (i % 2 === 0 ? a : b).handlers.reserveSeats(input)),
      );
      const accepted = new Map<string, number>();
      outcomes.forEach((outcome, i) => {
        const id = attempts[i]!.conferenceId;
        if (outcomeOf(outcome) === 'accepted') accepted.set(id, (accepted.get(id) ?? 0) + 1);
        else expect(outcomeOf(outcome)).toBe('insufficient_seats');
      });
      expect(ids.map((id) => accepted.get(id))).toEqual(ids.map(capacity));
      const grouped = await Promise.all([a, b].map((s) => observed(s.metrics.appendConferences)));
      // They really were grouped: fewer appends than conferences' batches.
      expect(grouped.some(({ appends, carried }) => carried > appends)).toBe(true);
      for (const id of ids) {
        expect((await a.bookings.availability(id, 'strong'))?.seatTypes[0]).toMatchObject({
          reserved: capacity(id),
          remaining: 0,
        });
      }
      await catchUp(a.projector);
      const views = await viewContents(db.sql);
      for (const id of ids) {
        expect(views.seats.find((s) => s.conference_id === id)).toMatchObject({ reserved: capacity(id), remaining: 0 });
        expect(views.reservations.filter((r) => r.conference_id === id)).toHaveLength(capacity(id));
      }
      await expectStoreIntact();
    } finally {
      await Promise.all([poolA.end({ timeout: 5 }), poolB.end({ timeout: 5 })]);
    }
  });

  it('after a crash between a group commit and the answers, keeps every committed reservation and counts none twice on retry', async () => {
    const crashingPool = connect(db.url, 3);
    let crashed = false;
    const crashing = createTestService(crashingPool, {
      groupCommit: { appendsInFlight: 1, maxConferences: 64, maxEvents: 2048, aloneFromEvents: 0 },
      // After the crash, a commit is never followed by an answer.
      afterBatchAppend: () => (crashed ? new Promise<void>(() => {}) : Promise.resolve()),
    });
    const ids = Array.from({ length: 6 }, (_, i) => `crash-${i}`);
    for (const id of ids) {
      await create(crashing, id, 10);
      await crashing.handlers.reserveSeats({ conferenceId: id, reservationId: 'warm', seats: standard(1) });
    }
    crashed = true;
    const before = await observed(crashing.metrics.appendConferences);
    let answered = 0;
    // Sent in one turn to writers whose states are cached: their batches are ready together.
    for (const conferenceId of ids) {
      void crashing.handlers.reserveSeats({ conferenceId, reservationId: 'x', seats: standard(3) }).then(
        () => answered++,
        () => answered++,
      );
    }
    const committed = async () =>
      (await db.sql`select 1 from events where stream_id like 'seat-availability-crash-%' and type = 'SeatsReserved'`)
        .length;
    for (let i = 0; (await committed()) < 2 * ids.length && i < 400; i++)
      await new Promise((next) => setTimeout(next, 10));
    expect(await committed()).toBe(2 * ids.length);
    await new Promise((next) => setImmediate(next));
    expect(answered).toBe(0);
    const after = await observed(crashing.metrics.appendConferences);
    expect({ appends: after.appends - before.appends, carried: after.carried - before.carried }).toEqual({
      appends: 1,
      carried: 6,
    });
    await crashingPool.end({ timeout: 1 });

    const restarted = createTestService(db.sql);
    const retries = await Promise.all(
      ids.flatMap((conferenceId) =>
        ['x', 'new'].map((reservationId) =>
          restarted.handlers.reserveSeats({ conferenceId, reservationId, seats: standard(3) }),
        ),
      ),
    );
    expect(retries.map(outcomeOf)).toEqual(ids.flatMap(() => ['repeated', 'accepted']));
    await catchUp(restarted.projector);
    const views = await viewContents(db.sql);
    for (const id of ids) {
      expect((await restarted.bookings.availability(id, 'strong'))?.seatTypes[0]?.reserved).toBe(7);
      expect(views.seats.find((s) => s.conference_id === id)).toMatchObject({ reserved: 7, remaining: 3 });
    }
    await expectStoreIntact();
  });
});
