import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { connect, type Sql } from '../../src/database/connect.js';
import { dropDatabase, ensureDatabase } from '../../src/database/databases.js';
import { applyMigrations } from '../../src/database/migrate.js';

export type TestDatabase = { url: string; sql: Sql; drop: () => Promise<void> };

/**
 * The partitions of `events` in the databases the tests create: EVENTS_PARTITIONS of the run's
 * environment, as a server started there would read it (`npm run test:partitioned` sets it).
 */
export const testEventsPartitions = loadConfig().eventsPartitions;

/**
 * A fresh, migrated database of this test file's own, on the run's server; `events` partitioned
 * as the run's environment asks, unless `eventsPartitions` says otherwise.
 */
export const createTestDatabase = async (
  poolSize = 10,
  { eventsPartitions = testEventsPartitions }: { eventsPartitions?: number } = {},
): Promise<TestDatabase> => {
  const serverUrl = inject('serverUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const url = await ensureDatabase(serverUrl, name);
  await applyMigrations(url, { eventsPartitions });
  const sql = connect(url, poolSize);
  return {
    url,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      await dropDatabase(serverUrl, name);
    },
  };
};
