import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../src/config.js';
import { connect, type Sql } from '../src/database/connect.js';
import { ensureDatabase } from '../src/database/databases.js';
import { applyMigrations } from '../src/database/migrate.js';
import { openDatabase, type OpenDatabase } from '../src/database/open-database.js';
import { createLogger } from '../src/logger.js';

/**
 * The PostgreSQL server a benchmark runs on, and the fresh databases it measures in: shared by
 * the benchmarks (`bench:snapshots`, `bench:versions`) so each starts and seeds alike.
 */

/** Where a benchmark's own embedded server lives when DATABASE_URL is not set. */
type EmbeddedPlace = { dataDir: string; port: number };

/**
 * DATABASE_URL's server, or an embedded PostgreSQL of the benchmark's own: its own data directory
 * and port, so a running `npm start`, load test or another benchmark is not disturbed.
 */
export const openBenchServer = async ({
  dataDir,
  port,
}: EmbeddedPlace): Promise<{ config: Config; database: OpenDatabase }> => {
  const config = loadConfig({ ...process.env, EMBEDDED_POSTGRES_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(port) });
  return { config, database: await openDatabase(config, createLogger('warn')) };
};

/** The embedded PostgreSQL's postmaster, from its pid file; undefined with DATABASE_URL. */
export const embeddedPostmaster = (config: Config): number | undefined => {
  if (config.databaseUrl) return undefined;
  try {
    const pid = Number(readFileSync(join(config.embeddedPostgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

/**
 * A fresh database `name` on the server, migrated as the service migrates its own (with
 * `eventsPartitions` partitions of `events`; 0: a plain table), and a pool on it. A benchmark
 * measures on a database of its own so no other run's rows weigh on its reads; it is kept
 * afterwards, for a look at what was measured.
 */
export const createBenchDatabase = async (
  serverUrl: string,
  name: string,
  { eventsPartitions = 0 }: { eventsPartitions?: number } = {},
): Promise<{ url: string; sql: Sql }> => {
  const url = await ensureDatabase(serverUrl, name);
  await applyMigrations(url, { eventsPartitions });
  return { url, sql: connect(url, 4) };
};
