import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../src/database/connect.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { eventually } from './support/views.js';

/**
 * The postgres.js patch (patches/postgres+3.4.9.patch): a connection lost while reserved, or
 * while queries are written to it, fails those queries; it does not crash the process
 * (porsager/postgres#1154, #1208), and the pool serves again afterwards. Without the patch the
 * first test ends the test run with an uncaught TypeError from the driver's nextWrite, or hangs.
 */
let db: TestDatabase;
let admin: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = connect(db.url, 1);
});
afterAll(async () => {
  await admin?.end({ timeout: 5 });
  await db?.drop();
});

const terminate = (sql: Sql, where: string) =>
  sql.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where ${where} and pid <> pg_backend_pid()`);

const codeOf = (error: unknown) => (error as { code?: string }).code;

describe('the patched driver', () => {
  it('fails the queries of a reserved connection whose backend died, and its release leaves the pool whole', async () => {
    const sql = connect(db.url, 2);
    try {
      const reserved = await sql.reserve();
      const [row] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
      await admin`select pg_terminate_backend(${row!.pid})`;
      const first = await reserved`select 1`.then(
        () => 'answered',
        (error: unknown) => codeOf(error),
      );
      const second = await reserved`select 1`.then(
        () => 'answered',
        (error: unknown) => codeOf(error),
      );
      expect(first).not.toBe('answered');
      expect(second).toBe('CONNECTION_CLOSED');
      reserved.release();
      // The pool answers again, on both connections: the dead one was not put back as open
      // (queries sent to it would then fail, or hang, for good). A query that meets the dying
      // connection before the driver has seen it close may fail once.
      expect(await answersAgain(sql)).toBe(true);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }, 20_000);

  it('serves again after every backend died with queries in flight', async () => {
    const sql = connect(db.url, 5);
    try {
      await sql`select 1`;
      const inFlight = Array.from({ length: 400 }, (_, i) =>
        sql`select pg_sleep(0.01), ${i}::int as i`.then(
          () => 'answered',
          (error: unknown) => codeOf(error) ?? 'failed',
        ),
      );
      // Every backend of this test's database but the admin's own.
      await terminate(admin, 'datname = current_database()');
      const outcomes = await Promise.all(inFlight);
      // Some were in flight when their backend died (400 queries of 10 ms on 5 connections).
      expect(outcomes.filter((outcome) => outcome !== 'answered').length).toBeGreaterThan(0);
      expect(await answersAgain(sql)).toBe(true);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('lets a connection close while it fetches the array types, with no unhandled rejection, and serves again', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const fetchingTypes = `select count(*)::int as n from pg_stat_activity
      where query like '%typarray%' and query not like '%pg_stat_activity%'`;
    await admin.unsafe(fetchingTypes); // planned once before the lock, so it needs no catalog read under it
    const locking = connect(db.url, 1);
    const locker = await locking.reserve();
    const sql = connect(db.url, 1);
    try {
      // A new connection's first query waits for its fetch of the array types, held up here.
      await locker`begin`;
      await locker`lock table pg_catalog.pg_type in access exclusive mode`;
      const first = sql`select 1 as one`.then(
        () => 'answered',
        (error: unknown) => codeOf(error),
      );
      await eventually(async () => expect((await admin.unsafe<{ n: number }[]>(fetchingTypes))[0]!.n).toBe(1));
      await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity
        where query like '%typarray%' and query not like '%pg_stat_activity%'`);
      await locker`rollback`;
      // The query that waited fails with the backend's end (57P01) or the close, or is sent again.
      expect(['answered', '57P01', 'CONNECTION_CLOSED']).toContain(await first);
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      await new Promise((settled) => setTimeout(settled, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      locker.release();
      await Promise.all([sql.end({ timeout: 5 }), locking.end({ timeout: 5 })]);
    }
  });
});

/** True once 50 queries in a row are answered, within 10 s. */
const answersAgain = async (sql: Sql): Promise<boolean> => {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sql<{ i: number }[]>`select ${i}::int as i`.then(
          ([row]) => row?.i === i,
          () => false,
        ),
      ),
    );
    if (answers.every(Boolean)) return true;
    await new Promise((done) => setTimeout(done, 50));
  }
  return false;
};
