import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { connect, type Sql } from '../../src/database/connect.js';
import { dropDatabase, ensureDatabase } from '../../src/database/databases.js';
import { applyMigrations, migrationsFolder } from '../../src/database/migrate.js';

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

/**
 * A copy of the migrations folder that ends with migration `tag`: the schema an older release
 * ran, for tests of what a migration and this release make of the rows it wrote. The caller
 * removes the folder.
 */
export const migrationsUpTo = async (tag: string): Promise<string> => {
  const folder = await mkdtemp(join(tmpdir(), 'seat-surge-migrations-'));
  await cp(migrationsFolder, folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const last = journal.entries.findIndex((entry) => entry.tag === tag);
  if (last < 0) throw new Error(`no migration ${tag}`);
  await writeFile(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, last + 1) }));
  return folder;
};
