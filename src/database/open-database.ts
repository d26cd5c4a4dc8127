import postgres from 'postgres';
import { redactUrl, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ensureDatabase } from './databases.js';
import { embeddedServerUrl, startEmbeddedPostgres } from './embedded-postgres.js';
import { applyMigrations } from './migrate.js';

/** The database of the embedded server. */
const EMBEDDED_DATABASE = 'seat_surge';

export type OpenDatabase = { url: string; description: string; close: () => Promise<void> };

/**
 * The database this process works on, migrated: `DATABASE_URL`, or the embedded server. With
 * `reuseRunning`, an embedded server that another process (a running `npm start`) already
 * serves is used as it is; otherwise one is started and stopped by `close()`.
 */
export const openDatabase = async (
  config: Config,
  log: Logger,
  { reuseRunning = false }: { reuseRunning?: boolean } = {},
): Promise<OpenDatabase> => {
  let url = config.databaseUrl;
  let close = async () => {};
  let description = url ? redactUrl(url) : 'embedded';
  if (!url) {
    const running = embeddedServerUrl(config.embeddedPostgres.port);
    if (reuseRunning && (await reachable(running))) {
      description = `embedded, served by another process on port ${config.embeddedPostgres.port}`;
      url = await ensureDatabase(running, EMBEDDED_DATABASE);
    } else {
      const embedded = await startEmbeddedPostgres({ ...config.embeddedPostgres, log });
      close = () => embedded.stop();
      description = `embedded (${embedded.dataDir})`;
      try {
        url = await ensureDatabase(embedded.url, EMBEDDED_DATABASE);
      } catch (error) {
        await close();
        throw error;
      }
    }
  }
  log.info({ database: description }, 'applying migrations');
  try {
    await applyMigrations(url, { eventsPartitions: config.eventsPartitions });
  } catch (error) {
    await close();
    throw error;
  }
  return { url, description, close };
};

const reachable = async (url: string): Promise<boolean> => {
  const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await probe`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await probe.end({ timeout: 1 });
  }
};
