import { connect } from './database/connect.js';
import { openDatabase } from './database/open-database.js';
import { createProjectors, type ProjectorsOptions } from './projections/index.js';
import type { ProjectorMessage } from './projector-process.js';
import { run } from './run.js';

/** When the API started this process (PROJECTOR=process): tell it what each batch applied (run.ts stops this one when it is gone). */
const reportToParent = (): Pick<ProjectorsOptions, 'onApplied'> => {
  if (!process.send) return {};
  const report = (message: ProjectorMessage) => {
    if (process.connected) process.send?.(message);
  };
  return {
    onApplied: (projection, count) => report({ kind: 'applied', projection, count }),
  };
};

/**
 * `npm run projector`: the projectors as a process of their own (start the API with PROJECTOR=off).
 * Several may run; one applies events at a time and another takes over when it dies. `npm start`
 * starts one as its child by default (see projector-process.ts).
 */
run('projector', async (config, log, releases) => {
  const parent = reportToParent();
  const database = await openDatabase(config, log, { reuseRunning: true });
  releases.push(database.close);
  // Per projection: one connection holds its leader lock, one runs its batches.
  const sql = connect(database.url, 4);
  releases.push(() => sql.end({ timeout: 5 }));
  const projector = createProjectors({ sql, log, ...config.projector, ...parent }).start();
  releases.push(() => projector.stop());
  log.info({ database: database.description }, 'projector running');
  return 'running';
});
