import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../src/database/connect.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

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
