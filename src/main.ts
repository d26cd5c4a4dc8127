import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { connect } from './database/connect.js';
import { openDatabase } from './database/open-database.js';
import { answerClientErrors } from './http/client-errors.js';
import { gracefulClose } from './http/graceful-close.js';
import { isLoopback, resolveOperatorToken } from './operator-token-file.js';
import { startProjectorProcess } from './projector-process.js';
import { CLOSE_RESERVE_MS, run } from './run.js';
import { createService } from './service.js';

/** `npm start`: database (embedded unless DATABASE_URL), migrations, projectors (see PROJECTOR), HTTP. */
run('seat-surge', async (config, log, releases) => {
  // Before the database: a token file that cannot be used stops the start with nothing to undo.
  const operator = await resolveOperatorToken(config.adminToken);
  if (operator.source === 'file') {
    // Where it is, never what it is.
    log.info(
      { file: operator.file, created: operator.created },
      `operator token (for Authorization: Bearer on the operator routes) is in ${operator.file}`,
    );
  }
  const database = await openDatabase(config, log);
  releases.push(database.close);
  const sql = connect(database.url, config.databasePoolSize);
  // Queries still running when the time is up are cut: the server answers nobody any more by then.
  releases.push((deadline) => sql.end({ timeout: Math.max(0.1, (deadline - Date.now()) / 2000) }));
  const service = createService(sql, {
    ...config,
    log,
    // A token this server made is put in the demo page it serves on loopback (page-routes.ts), for
    // the person at this machine, who owns the file anyway (on a machine shared with other users,
    // set ADMIN_TOKEN). One set in ADMIN_TOKEN is someone's deliberate secret, and a server
    // reachable from elsewhere would hand it to anyone.
    operator: { token: operator.token, onDemoPage: operator.source === 'file' && isLoopback(config.host) },
  });
  releases.push(async () => service.close());
  // A snapshot not written is only a longer load next time; it never holds the stop past its deadline.
  releases.push((deadline) => until(deadline - CLOSE_RESERVE_MS, service.snapshots.settle()));
  if (config.projector.runs === 'process') {
    const projectorProcess = startProjectorProcess({
      databaseUrl: database.url,
      log,
      onMessage: (message) => service.metrics.projectedEvents.inc({ projection: message.projection }, message.count),
    });
    // Stopped before the pool and the embedded database: its batch in progress commits first.
    releases.push((deadline) => projectorProcess.stop(deadline - CLOSE_RESERVE_MS));
  }

  // Before listening: the first requests after a start would otherwise connect and prepare. Before
  // the loops that lead by a lock, too: each holds a connection of the pool for as long as it
  // leads, and the warm-up waits for every connection of the pool at once.
  const warmUpStarted = Date.now();
  await service.warmUp(config.databasePoolSize);
  const warmUpMs = Date.now() - warmUpStarted;
  // Whichever process's projector leads (this one's, another API's, npm run projector), its
  // batches wake the live readers here.
  await service.changedViews.start();
  releases.push(() => service.changedViews.stop());
  if (config.projector.runs === 'in-api') {
    service.projector.start();
    // Its batch in progress commits or rolls back by itself; the stop does not wait past the deadline.
    releases.push((deadline) => until(deadline - CLOSE_RESERVE_MS, service.projector.stop()));
  }
  // In every API process: one of them leads (a lock), the others stand by to take over.
  service.expirer.start();
  releases.push((deadline) => until(deadline - CLOSE_RESERVE_MS, service.expirer.stop()));
  // The CRUD designs' holds expire by their own sweeps; service.close() stops them.
  service.crudHoldSweeps.start();

  const server = serve({
    fetch: service.app.fetch,
    port: config.port,
    hostname: config.host,
    // How often Node looks for requests past their header and request timeouts (default 30 s):
    // a slow client is cut about when its timeout says, not up to 30 s later.
    serverOptions: { connectionsCheckingInterval: 1000 },
  }) as Server;
  answerClientErrors(server, log);
  const closeServer = gracefulClose(server);
  releases.push(async (deadline) => {
    // Open event streams never end by themselves; the browser reconnects or falls back to polling.
    service.closeLiveStreams();
    const { cut } = await closeServer(deadline - CLOSE_RESERVE_MS);
    if (cut > 0) log.warn({ cut }, 'answers still in flight at the stop deadline were cut');
  });
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
      snapshotKeep: config.snapshotKeep === 'all' ? 'all' : config.snapshotKeep.every,
      maxRetries: config.retry.maxRetries,
      poolSize: config.databasePoolSize,
      warmUpMs,
      projector: PROJECTOR_RUNS[config.projector.runs],
    },
    'seat-surge is serving',
  );
  return 'running';
});

const PROJECTOR_RUNS = {
  process: 'in a process of its own',
  'in-api': 'in this process',
  off: 'off (run npm run projector)',
} as const;

/** Waits for `work`, but not past `deadline` (epoch ms). */
const until = async (deadline: number, work: Promise<unknown>): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((done) => (timer = setTimeout(done, Math.max(0, deadline - Date.now()))))]);
  clearTimeout(timer);
};
