import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnly } from '../src/warm-up.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService } from './support/service.js';

/**
 * The service warms up before it says it is ready (main.ts): the pool's connections open and
 * the hot path's statements run once on each. Nothing may be written by it, whatever the
 * database holds, even a stream under the warm-up's own conference id.
 */
const POOL_SIZE = 4;
let db: TestDatabase;
/** The test's own reads, on a connection apart from the service's pool. */
let observer: postgres.Sql;
beforeAll(async () => {
  db = await createTestDatabase(POOL_SIZE);
  observer = postgres(db.url, { max: 1, onnotice: () => {}, connection: { application_name: 'warm-up-test' } });
});
afterAll(async () => {
  await observer?.end();
  await db?.drop();
});

/** Every row of every table, and every sequence's value: what any write would change. */
const databaseContents = async (sql: postgres.Sql) => {
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', table_schema, table_name) as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
    order by 1`;
  const rows = await Promise.all(
    tables.map(async ({ name }) => {
      const [{ rows }] = await sql.unsafe<[{ rows: unknown }]>(
        `select jsonb_agg(t order by to_jsonb(t)::text) as rows from ${name} t`,
      );
      return [name, rows] as const;
    }),
  );
  const sequences = await sql`select schemaname, sequencename, last_value from pg_sequences order by 1, 2`;
  return { tables: Object.fromEntries(rows), sequences };
};

/** The service's connections to the test database. */
const poolConnections = async () => {
  const [row] = await observer<{ count: number }[]>`
    select count(*)::int as count from pg_stat_activity
    where datname = current_database() and application_name = 'seat-surge'`;
  return row!.count;
};

describe('warming up', () => {
  it('opens every connection of the pool and writes nothing', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 2 });
    await service.handlers.createConference({
      conferenceId: 'warm',
      name: 'Warm',
      seatTypes: [{ type: 'standard', capacity: 10 }],
    });
    await service.handlers.reserveSeats({
      conferenceId: 'warm',
      reservationId: 'r1',
      seats: [{ seatType: 'standard', quantity: 2 }],
    });
    // The id no request can name (it starts with a dash); the commands here do not validate it.
    await service.handlers.createConference({
      conferenceId: '-warm-up',
      name: 'Not a conference',
      seatTypes: [{ type: 'standard', capacity: 1 }],
    });
    await service.snapshots.settle();
    const before = await databaseContents(observer);
    expect(before.tables['public.snapshots']).not.toBeNull();
    expect(await poolConnections()).toBeLessThan(POOL_SIZE);
    const commandsBefore = await service.metrics.commands.get();

    await service.warmUp(POOL_SIZE);

    expect(await databaseContents(observer)).toEqual(before);
    expect(await poolConnections()).toBe(POOL_SIZE);
    // The rehearsed reservation went through a service of its own: none counted here.
    expect(await service.metrics.commands.get()).toEqual(commandsBefore);
    service.close();
  });
});

describe('a read-only rehearsal', () => {
  it('cannot write, and leaves its connection usable', async () => {
    const write = readOnly(
      db.sql,
      (connection) => connection`insert into streams (stream_id, version) values ('x', 1)`,
    );
    await expect(write).rejects.toMatchObject({ code: '25006' });
    const [row] = await db.sql`select count(*)::int as count from streams where stream_id = 'x'`;
    expect(row!.count).toBe(0);
    expect(await Promise.all(Array.from({ length: POOL_SIZE }, () => db.sql`select 1 as one`))).toHaveLength(POOL_SIZE);
  });
});
