import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connect, type Sql } from '../../src/database/connect.js';
import { dropDatabase, ensureDatabase } from '../../src/database/databases.js';
import { applyMigrations } from '../../src/database/migrate.js';

export type TestDatabase = { url: string; sql: Sql; drop: () => Promise<void> };

/** A fresh, migrated database of this test file's own, on the run's server. */
export const createTestDatabase = async (poolSize = 10): Promise<TestDatabase> => {
  const serverUrl = inject('serverUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const url = await ensureDatabase(serverUrl, name);
  await applyMigrations(url);
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
