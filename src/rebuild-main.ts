import { connect } from './database/connect.js';
import { openDatabase } from './database/open-database.js';
import { PROJECTIONS, rebuildViews } from './projections/index.js';
import { run } from './run.js';

/** `npm run projections:rebuild`: rebuilds each projection's views (or those named) from the events and swaps them in; the API may keep serving. */
run('rebuild', async (config, log, releases) => {
  const database = await openDatabase(config, log, { reuseRunning: true });
  releases.push(database.close);
  const sql = connect(database.url, 2);
  releases.push(() => sql.end({ timeout: 5 }));
  // One projection, or all of them: `npm run projections:rebuild -- reservations`.
  const wanted = process.argv.slice(2);
  for (const projection of PROJECTIONS.filter((p) => wanted.length === 0 || wanted.includes(p.name))) {
    const started = Date.now();
    let reported = 0;
    const result = await rebuildViews({
      sql,
      log,
      projection,
      onProgress: (replayed) => {
        if (replayed - reported >= 50_000) {
          reported = replayed;
          log.info({ projection: projection.name, replayed }, 'rebuilding');
        }
      },
    });
    console.log(
      `Rebuilt ${projection.name} from ${result.events} events in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `it now reflects position ${result.checkpoint.position}.`,
    );
  }
  return 'done';
});
