import { connect } from './database/connect.js';
import { openDatabase } from './database/open-database.js';
import { createProjectors } from './projections/index.js';
import { run } from './run.js';

/**
 * `npm run projector`: the projector as a process of its own (start the API with PROJECTOR=off).
 * Several may run; one applies events at a time and another takes over when it dies.
 */
run('projector', async (config, log, releases) => {
  const database = await openDatabase(config, log, { reuseRunning: true });
  releases.push(database.close);
  // Per projection: one connection holds its leader lock, one runs its batches.
  const sql = connect(database.url, 4);
  releases.push(() => sql.end({ timeout: 5 }));
  const projector = createProjectors({ sql, log, ...config.projector }).start();
  releases.push(() => projector.stop());
  log.info({ database: database.description }, 'projector running');
  return 'running';
});
