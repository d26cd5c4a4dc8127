import { serve } from '@hono/node-server';
import { ConfigError, loadConfig, redactUrl } from './config.js';
import { connect } from './database/connect.js';
import { ensureDatabase } from './database/databases.js';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedPostgres } from './database/embedded-postgres.js';
import { applyMigrations } from './database/migrate.js';
import { createLogger } from './logger.js';
import { createService } from './service.js';

/** `npm start`: configuration, database (embedded unless DATABASE_URL), migrations, HTTP. */
const main = async () => {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);

  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  if (config.databaseUrl) {
    url = config.databaseUrl;
  } else {
    embedded = await startEmbeddedPostgres({ ...config.embeddedPostgres, log });
    url = await ensureDatabase(embedded.url, 'seat_surge');
  }
  log.info({ database: embedded ? `embedded (${embedded.dataDir})` : redactUrl(url) }, 'applying migrations');
  await applyMigrations(url);

  const sql = connect(url, config.databasePoolSize);
  const service = createService(sql, { ...config, log });
  const server = serve({ fetch: service.app.fetch, port: config.port, hostname: config.host });
  await new Promise<void>((listening, failed) => {
    server.once('listening', listening);
    server.once('error', failed);
  });
  log.info(
    {
      url: `http://${config.host === '127.0.0.1' ? 'localhost' : config.host}:${config.port}`,
      database: embedded ? 'embedded' : redactUrl(url),
      snapshotInterval: config.snapshotInterval,
      maxRetries: config.retry.maxRetries,
      poolSize: config.databasePoolSize,
    },
    'seat-surge is serving',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await new Promise<void>((closed) => server.close(() => closed()));
    await service.snapshots.settle();
    await sql.end({ timeout: 5 });
    await embedded?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};

main().catch((error: unknown) => {
  const reason =
    error instanceof EmbeddedPostgresError
      ? error.message
      : (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `port already in use: ${(error as Error).message} (set PORT to another port)`
        : error instanceof Error
          ? error.message
          : String(error);
  console.error(`seat-surge failed to start: ${reason}`);
  process.exit(1);
});
