import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../src/database/connect.js';
import { applyMigrations } from '../src/database/migrate.js';
import { eventsLayout, partitionEvents, partitionName } from '../src/database/partition-events.js';
import { createEventStore, type RecordedEvent } from '../src/event-store/event-store.js';
import { PROJECTIONS, rebuildViews } from '../src/projections/index.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService, quietLog } from './support/service.js';
import { viewContents } from './support/views.js';

/**
 * `events` hash-partitioned by stream id (EVENTS_PARTITIONS, docs/scaling.md): the schema it
 * makes, and the same answers as the plain table's. `npm run test:partitioned` runs the whole
 * suite on it; this file proves it in the ordinary run too.
 */
const PARTITIONS = 4;

let plain: TestDatabase;
let partitioned: TestDatabase;

beforeAll(async () => {
  [plain, partitioned] = await Promise.all([
    createTestDatabase(10, { eventsPartitions: 0 }),
    createTestDatabase(10, { eventsPartitions: PARTITIONS }),
  ]);
});
afterAll(() => Promise.all([plain?.drop(), partitioned?.drop()]));

/** Every index of `events` (not of its partitions), with its definition. */
const indexes = async (sql: Sql) =>
  (
    await sql<{ name: string; definition: string }[]>`
      select indexname as name, indexdef as definition from pg_indexes
      where schemaname = current_schema() and tablename = 'events' order by indexname`
  ).map(({ name, definition }) => ({ name, definition: definition.replace(' ONLY ', ' ') }));

/** Every trigger of a table, with its definition. */
const triggers = async (sql: Sql, table: string) =>
  sql<{ name: string; definition: string }[]>`
    select tgname as name, pg_get_triggerdef(oid) as definition from pg_trigger
    where tgrelid = ${table}::regclass and not tgisinternal order by tgname`;

/** The conference's commands, in one order, at fixed times: the same events on any store. */
const bookSome = async (service: ReturnType<typeof createTestService>, conferenceId: string) => {
  const { bookings } = service;
  await bookings.createConference(
    {
      conferenceId,
      name: conferenceId,
      seatTypes: [
        { type: 'standard', capacity: 5 },
        { type: 'vip', capacity: 2 },
      ],
    },
    {},
  );
  for (let i = 0; i < 6; i++) {
    await bookings.reserveSeats(
      { conferenceId, reservationId: `r-${i}`, seats: [{ seatType: i % 2 ? 'vip' : 'standard', quantity: 1 }] },
      {},
    );
  }
  await bookings.cancelReservation({ conferenceId, reservationId: 'r-0' }, {});
  await bookings.holdSeats(
    { conferenceId, reservationId: 'h-1', seats: [{ seatType: 'standard', quantity: 2 }], holdSeconds: 600 },
    {},
  );
  await bookings.confirmReservation({ conferenceId, reservationId: 'h-1' }, {});
};

/** A conference's first event, appended straight to the store (the projectors read every event). */
const created = (conferenceId: string) => ({
  type: 'ConferenceCreated',
  data: {
    conferenceId,
    name: conferenceId,
    seatTypes: [{ type: 'standard', capacity: 10 }],
    createdAt: '2031-05-04T09:00:00.000Z',
  },
});

/** An event as the store reads it, without its recording time (each database records its own). */
const withoutTime = ({ recordedAt: _, ...event }: RecordedEvent) => event;

describe('events partitioned by stream id', () => {
  it(`is a table hash-partitioned on stream_id into ${PARTITIONS} partitions`, async () => {
    expect(await eventsLayout(partitioned.sql)).toEqual({ partitioned: true, partitions: PARTITIONS });
    const [table] = await partitioned.sql<{ relkind: string; strategy: string; key: string }[]>`
      select c.relkind, p.partstrat as strategy, pg_get_partkeydef(c.oid) as key
      from pg_class c join pg_partitioned_table p on p.partrelid = c.oid where c.oid = 'events'::regclass`;
    expect(table).toEqual({ relkind: 'p', strategy: 'h', key: 'HASH (stream_id)' });
    const parts = await partitioned.sql<{ name: string; bound: string }[]>`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'events'::regclass order by c.relname`;
    expect(parts).toEqual(
      Array.from({ length: PARTITIONS }, (_, remainder) => ({
        name: partitionName(remainder),
        bound: `FOR VALUES WITH (modulus ${PARTITIONS}, remainder ${remainder})`,
      })),
    );
    expect(await eventsLayout(plain.sql)).toEqual({ partitioned: false });
  });

  it('leaves the partitions of a fresh table unanalyzed, as the plain table is, so lookups plan by index', async () => {
    // Analyzed empty, a partition counts as empty (reltuples 0) and the planner scans it instead.
    const [table] = await partitioned.sql<{ never: boolean }[]>`
      select bool_and(c.reltuples < 0) as never from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'events'::regclass`;
    expect(table?.never).toBe(true);
  });

  it('keeps the indexes and triggers of the plain table, the primary key extended by the partition key', async () => {
    const primaryKey = (definition: string) => definition.replace('("position", stream_id)', '("position")');
    const own = await indexes(partitioned.sql);
    expect(own.map(({ name, definition }) => ({ name, definition: primaryKey(definition) }))).toEqual(
      await indexes(plain.sql),
    );
    expect(own.find(({ name }) => name === 'events_pkey')?.definition).toContain('("position", stream_id)');
    expect(await triggers(partitioned.sql, 'events')).toEqual(await triggers(plain.sql, 'events'));
  });

  it('refuses updates, deletes and truncates of events and of each partition', async () => {
    const store = createEventStore(partitioned.sql);
    for (let i = 0; i < 24; i++) await store.append(streamIdOf(`append-only-${i}`), 0, [created(`append-only-${i}`)]);
    const filled = await partitioned.sql<{ partition: string }[]>`
      select distinct tableoid::regclass::text as partition from events order by 1`;
    expect(filled.map((row) => row.partition)).toEqual(
      Array.from({ length: PARTITIONS }, (_, remainder) => partitionName(remainder)),
    );
    for (const table of ['events', ...filled.map((row) => row.partition)]) {
      await expect(partitioned.sql`update ${partitioned.sql(table)} set type = 'x'`).rejects.toThrow(/append-only/);
      await expect(partitioned.sql`delete from ${partitioned.sql(table)}`).rejects.toThrow(/append-only/);
      await expect(partitioned.sql`truncate ${partitioned.sql(table)}`).rejects.toThrow(/append-only/);
    }
    expect(await partitioned.sql`select count(*)::int as n from events`).toEqual([{ n: 24 }]);
  });

  it('sells exactly the capacity when 300 reservations race for 100 seats through the service', async () => {
    const service = createTestService(partitioned.sql);
    try {
      const conferenceId = 'partitioned-race';
      await service.bookings.createConference(
        { conferenceId, name: 'Race', seatTypes: [{ type: 'standard', capacity: 100 }] },
        {},
      );
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          service.bookings.reserveSeats(
            { conferenceId, reservationId: `r-${i}`, seats: [{ seatType: 'standard', quantity: 1 }] },
            {},
          ),
        ),
      );
      expect(results.filter((r) => r.kind === 'ok' && r.created)).toHaveLength(100);
      expect(results.filter((r) => r.kind === 'rejected' && r.rejection.kind === 'insufficient_seats')).toHaveLength(
        200,
      );
      const events = await service.eventStore.readStream(streamIdOf(conferenceId));
      expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'SeatsReserved')).toHaveLength(100);
      await catchUp(service.projector);
      expect((await service.bookings.availability(conferenceId, 'eventual'))?.seatTypes).toEqual(
        (await service.bookings.availability(conferenceId, 'strong'))?.seatTypes,
      );
      expect((await service.bookings.availability(conferenceId, 'strong'))?.seatTypes[0]).toMatchObject({
        reserved: 100,
        remaining: 0,
      });
    } finally {
      service.close();
    }
  });

  it('keeps each stream in one partition and spreads conferences over several', async () => {
    const store = createEventStore(partitioned.sql);
    const conferences = Array.from({ length: 24 }, (_, i) => `spread-${i}`);
    for (const conferenceId of conferences) {
      await store.append(streamIdOf(conferenceId), 0, [created(conferenceId)]);
      await store.append(streamIdOf(conferenceId), 1, [
        {
          type: 'SeatsReserved',
          data: {
            conferenceId,
            reservationId: 'r',
            seats: [{ seatType: 'standard', quantity: 1 }],
            reservedAt: '2031-05-04T09:01:00.000Z',
          },
          key: 'r',
        },
      ]);
    }
    const streams = conferences.map(streamIdOf);
    const rows = await partitioned.sql<{ streamId: string; partitions: string[] }[]>`
      select stream_id as "streamId", array_agg(distinct tableoid::regclass::text) as partitions
      from events where stream_id in ${partitioned.sql(streams)} group by stream_id`;
    expect(rows).toHaveLength(streams.length);
    expect(rows.every((row) => row.partitions.length === 1)).toBe(true);
    expect(new Set(rows.map((row) => row.partitions[0])).size).toBeGreaterThan(1);
  });

  it('answers as the plain table does: streams, keys, the listing by position, the views and a rebuild', async () => {
    // The earlier tests drew positions in one database and not the other; the same commands at
    // the same times then make the same events in both, each as far from the first of them.
    const clock = () => new Date('2031-05-04T10:00:00.000Z');
    const services = [plain, partitioned].map((db) => createTestService(db.sql, { clock }));
    try {
      const answers = await Promise.all(
        services.map(async (service, i) => {
          const sql = i === 0 ? plain.sql : partitioned.sql;
          for (const conferenceId of ['same-a', 'same-b', 'same-c']) await bookSome(service, conferenceId);
          const store = service.eventStore;
          const start = ((await store.readStream(streamIdOf('same-a')))[0]?.position ?? 0) - 1;
          const shifted = (event: RecordedEvent) => ({ ...withoutTime(event), position: event.position - start });
          const streams = await Promise.all(
            ['same-a', 'same-b', 'same-c'].map(async (id) => (await store.readStream(streamIdOf(id))).map(shifted)),
          );
          const listing = (await store.readAll(start, 1000)).map(shifted);
          const page = (await store.readStreamPage(streamIdOf('same-b'), start + 3, 4)).map(shifted);
          const keys = await store.readByKeys(streamIdOf('same-c'), ['r-1', 'h-1']);
          await catchUp(service.projector);
          const views = await viewContents(sql);
          const live = (ids: string[]) => ({
            seats: views.seats.filter((row) => ids.includes(row.conference_id as string)),
            reservations: views.reservations.filter((row) => ids.includes(row.conference_id as string)),
          });
          const availability = await service.bookings.availability('same-a', 'eventual');
          for (const projection of PROJECTIONS) {
            await rebuildViews({ sql, log: quietLog, projection, batchSize: 7 });
          }
          const rebuilt = await viewContents(sql);
          expect(rebuilt).toEqual(views);
          const ids = ['same-a', 'same-b', 'same-c'];
          const positionless = (rows: readonly Record<string, unknown>[]) =>
            rows.map(({ last_position, ...row }) => ({ ...row, last_position: Number(last_position) - start }));
          return {
            streams,
            listing,
            page,
            keys: { version: keys.version, events: keys.events.map(shifted) },
            views: {
              seats: positionless(live(ids).seats),
              reservations: positionless(live(ids).reservations),
            },
            availability: { ...availability, position: (availability?.position ?? 0) - start },
          };
        }),
      );
      const [onPlain, onPartitioned] = answers;
      expect(onPlain?.listing.length).toBe(27);
      expect(onPlain?.views.reservations.length).toBe(18);
      expect(onPartitioned).toEqual(onPlain);
    } finally {
      for (const service of services) service.close();
    }
  });
});

describe('converting a plain events table', () => {
  it('keeps every event, its position and the sequence, and is done once', async () => {
    const own = await createTestDatabase(4, { eventsPartitions: 0 });
    try {
      const store = createEventStore(own.sql);
      for (let i = 0; i < 30; i++) {
        await store.append(`before-${i % 7}`, Math.floor(i / 7), [{ type: 'Noted', data: { i }, key: `k-${i}` }]);
      }
      // A rolled-back append draws positions too: the next one must come after them, not reuse them.
      await own.sql
        .begin(async (tx) => {
          await createEventStore(tx).append('rolled-back', 0, [{ type: 'Noted', data: {} }]);
          throw new Error('roll back');
        })
        .catch(() => {});
      const all = () => own.sql`select * from events order by position`;
      const before = await all();

      await applyMigrations(own.url, { eventsPartitions: 3 });
      expect(await eventsLayout(own.sql)).toEqual({ partitioned: true, partitions: 3 });
      expect(await all()).toEqual(before);
      const next = await store.append('after', 0, [{ type: 'Noted', data: {} }]);
      expect(next.position).toBe(Number(before.at(-1)?.position) + 2);
      expect((await store.readByKeys('before-3', ['k-10'])).events.map((e) => e.data)).toEqual([{ i: 10 }]);

      await applyMigrations(own.url, { eventsPartitions: 3 });
      expect(await own.sql`select count(*)::int as n from events`).toEqual([{ n: 31 }]);
      expect(await partitionEvents(own.sql, 3)).toBe('unchanged');
      await expect(partitionEvents(own.sql, 5)).rejects.toThrow(/partitioned into 3 partitions, not 5/);
    } finally {
      await own.drop();
    }
  });
});
