import { serve } from '@hono/node-server';
import { ConfigError, loadConfig, redactUrl, type Config } from './config.js';
import { connect } from './database/connect.js';
import { ensureDatabase } from './database/databases.js';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './database/embedded-postgres.js';
import { applyMigrations } from './database/migrate.js';
import { createLogger, type Logger } from './logger.js';
import { createService } from './service.js';

/**
 * `npm start`: configuration, database (embedded unless DATABASE_URL), migrations, HTTP.
 * Each resource registers how to release it; Ctrl-C, SIGTERM or a failed start release them
 * in reverse order, so no embedded PostgreSQL is left behind.
 */
const start = async (config: Config, log: Logger, releases: (() => Promise<void>)[]) => {
  let url = config.databaseUrl;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ ...config.embeddedPostgres, log });
    releases.push(() => embedded.stop());
    url = await ensureDatabase(embedded.url, 'seat_surge');
  }
  const database = config.databaseUrl ? redactUrl(url) : 'embedded';
  log.info({ database }, 'applying migrations');
  await applyMigrations(url);

  const sql = connect(url, config.databasePoolSize);
  releases.push(() => sql.end({ timeout: 5 }));
  const service = createService(sql, { ...config, log });
  releases.push(() => service.snapshots.settle());

  const server = serve({ fetch: service.app.fetch, port: config.port, hostname: config.host });
  releases.push(() => new Promise<void>((closed) => server.close(() => closed())));
  await new Promise<void>((listening, failed) => {
    server.once('listening', listening);
    server.once('error', failed);
  });
  log.info(
    {
      url: `http://${config.host === '127.0.0.1' ? 'localhost' : config.host}:${config.port}`,
      database,
      snapshotInterval: config.snapshotInterval,
      maxRetries: config.retry.maxRetries,
      poolSize: config.databasePoolSize,
    },
    'seat-surge is serving',
  );
};

const release = async (releases: (() => Promise<void>)[], log: Logger) => {
  for (const step of releases.reverse()) {
    await step().catch((error: unknown) => log.warn({ err: error }, 'a resource did not stop cleanly'));
  }
};

const explain = (error: unknown): string => {
  if (error instanceof EmbeddedPostgresError) return error.message;
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return `the port is already in use (set PORT to another)`;
  return error instanceof Error ? error.message : String(error);
};

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
const log = createLogger(config.logLevel);
const releases: (() => Promise<void>)[] = [];
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  await release(releases, log);
  log.info('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

start(config, log, releases).catch(async (error: unknown) => {
  console.error(`seat-surge failed to start: ${explain(error)}`);
  await release(releases, log);
  process.exit(1);
});
