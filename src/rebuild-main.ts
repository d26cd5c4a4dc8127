import { connect } from './database/connect.js';
import { openDatabase } from './database/open-database.js';
import { rebuildViews } from './projections/index.js';
import { run } from './run.js';

/** `npm run projections:rebuild`: rebuilds every view from the events and swaps it in; the API may keep serving. */
run('rebuild', async (config, log, releases) => {
  const database = await openDatabase(config, log, { reuseRunning: true });
  releases.push(database.close);
  const sql = connect(database.url, 2);
  releases.push(() => sql.end({ timeout: 5 }));
  const started = Date.now();
  let reported = 0;
  const result = await rebuildViews({
    sql,
    log,
    onProgress: (replayed) => {
      if (replayed - reported >= 50_000) {
        reported = replayed;
        log.info({ replayed }, 'rebuilding');
      }
    },
  });
  console.log(
    `Rebuilt the views from ${result.events} events in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `they now reflect position ${result.checkpoint.position}.`,
  );
  return 'done';
});
