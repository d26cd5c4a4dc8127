import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderLock } from '../src/database/leader-lock.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(4);
});
afterAll(() => db?.drop());

/** Ends the backend that holds the advisory lock `key`, as a lost connection would. */
const endHolder = async (key: number) => {
  const [row] = await db.sql<{ ended: boolean }[]>`
    select pg_terminate_backend(pid) as ended from pg_locks
    where locktype = 'advisory' and granted and objid = ${key}`;
  expect(row?.ended).toBe(true);
};

describe('leader lock', () => {
  it("trusts a held lock's connection for checkEveryMs after it last answered, then asks it, and a lost one is given up and taken again", async () => {
    const key = 72_639_001;
    let now = 0;
    const lock = new LeaderLock(db.sql, key, 1000, () => now);
    try {
      expect(await lock.take()).toBe(true);
      await endHolder(key);
      // Within the interval the connection is not asked: still the leader, as far as it knows.
      now = 999;
      expect(await lock.take()).toBe(true);
      // Past it, the question finds the connection gone.
      now = 1000;
      await expect(lock.take()).rejects.toThrow();
      await lock.release();
      expect(lock.held).toBe(false);
      expect(await lock.take()).toBe(true);
      const holders = await db.sql`select 1 from pg_locks where locktype = 'advisory' and granted and objid = ${key}`;
      expect(holders).toHaveLength(1);
    } finally {
      await lock.release();
    }
  });

  it('asks at every take without an interval, and a second process cannot take a held lock', async () => {
    const key = 72_639_002;
    const lock = new LeaderLock(db.sql, key);
    const other = new LeaderLock(db.sql, key);
    try {
      expect(await lock.take()).toBe(true);
      expect(await other.take()).toBe(false);
      await endHolder(key);
      await expect(lock.take()).rejects.toThrow();
      await lock.release();
      expect(await other.take()).toBe(true);
    } finally {
      await lock.release();
      await other.release();
    }
  });
});
