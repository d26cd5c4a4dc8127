import { serve } from '@hono/node-server';
import { connect } from './database/connect.js';
import { openDatabase } from './database/open-database.js';
import { answerClientErrors } from './http/client-errors.js';
import { run } from './run.js';
import { createService } from './service.js';

/** `npm start`: database (embedded unless DATABASE_URL), migrations, projector (unless PROJECTOR=off), HTTP. */
run('seat-surge', async (config, log, releases) => {
  const database = await openDatabase(config, log);
  releases.push(database.close);
  const sql = connect(database.url, config.databasePoolSize);
  releases.push(() => sql.end({ timeout: 5 }));
  const service = createService(sql, { ...config, log });
  releases.push(() => service.snapshots.settle());
  if (config.projector.enabled) {
    service.projector.start();
    releases.push(() => service.projector.stop());
  }

  const server = serve({ fetch: service.app.fetch, port: config.port, hostname: config.host });
  answerClientErrors(server, log);
  releases.push(
    () =>
      new Promise<void>((closed) => {
        server.close(() => closed());
        // Open event streams never end by themselves; the browser reconnects or falls back to polling.
        service.closeLiveStreams();
      }),
  );
  await new Promise<void>((listening, failed) => {
    server.once('listening', listening);
    server.once('error', failed);
  });
  const url = `http://${config.host === '127.0.0.1' ? 'localhost' : config.host}:${config.port}`;
  // Released first on Ctrl-C: says what is being stopped before the pieces go one by one.
  releases.push(async () => log.info({ url, database: database.description }, 'seat-surge stops serving'));
  log.info(
    {
      url,
      docs: `${url}/docs`,
      database: database.description,
      writePath: config.writePath,
      snapshotInterval: config.snapshotInterval,
      maxRetries: config.retry.maxRetries,
      poolSize: config.databasePoolSize,
      projector: config.projector.enabled ? 'in this process' : 'off (run npm run projector)',
    },
    'seat-surge is serving',
  );
  return 'running';
});
