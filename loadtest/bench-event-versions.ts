import { createBenchDatabase, openBenchServer } from './bench-database.js';
import { parseOrExit } from './options.js';
import { machine } from './report/loadtest-report.js';
import { countsOf, measureColdLoads, measureUpcasting, type StreamName } from './versions/measure-loads.js';
import { seedVersionStreams, versionStreamIds } from './versions/seed-streams.js';
import { parseVersionsOptions, VERSIONS_USAGE, type VersionsOptions } from './versions/versions-options.js';
import { buildVersionsReport, upcastLine, versionsTable, writeVersionsReport } from './versions/versions-report.js';

export { parseVersionsOptions, type VersionsOptions } from './versions/versions-options.js';
export { type VersionsReport } from './versions/versions-report.js';

export type VersionsProgress = {
  /** Partitions of the benchmark database's `events` (EVENTS_PARTITIONS); 0: a plain table. */
  eventsPartitions?: number;
  onSeeded?: (seconds: number) => void;
  onRound?: (round: number, ms: Record<StreamName, number>) => void;
};

/**
 * Issue 28's benchmark: on a fresh database of the given server, the same history written all in
 * the current versions and half as the release before event versions wrote it, then cold loads of
 * both taking turns, and the upcasting alone. Stops with an error when a load gives another state
 * than the history.
 */
export const runVersionsBench = async (
  serverUrl: string,
  options: VersionsOptions,
  progress: VersionsProgress = {},
) => {
  const startedAt = new Date();
  const runId = startedAt.getTime().toString(36);
  const { url, sql } = await createBenchDatabase(serverUrl, `versions_${runId}`, {
    eventsPartitions: progress.eventsPartitions,
  });
  try {
    const streams = versionStreamIds(runId);
    const seeding = performance.now();
    const { written, expected } = await seedVersionStreams(sql, streams, options);
    progress.onSeeded?.((performance.now() - seeding) / 1000);
    const state = countsOf(expected, written.length);
    const loads = await measureColdLoads(sql, streams, state, options.rounds, progress.onRound);
    const upcasts = await measureUpcasting(sql, streams, options.rounds);
    const report = buildVersionsReport({
      startedAt,
      machine: machine(),
      options,
      streams: written,
      state,
      loads,
      upcasts,
    });
    return { report, files: await writeVersionsReport(report), database: url };
  } finally {
    await sql.end({ timeout: 5 });
  }
};

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const options = parseOrExit(() => parseVersionsOptions(process.argv.slice(2)), VERSIONS_USAGE);
  const main = async () => {
    // Its own data directory and port: a snapshot benchmark, load test or `npm start` may be running.
    const { config, database } = await openBenchServer({ dataDir: '.data/bench-versions', port: 54332 });
    try {
      console.log(
        `Event-versions benchmark: two streams of ${options.length} events (one half in version 1), ${options.rounds} rounds of cold loads after a warm-up`,
      );
      const { report, files } = await runVersionsBench(database.url, options, {
        eventsPartitions: config.eventsPartitions,
        onSeeded: (seconds) => console.log(`seeded both streams in ${seconds.toFixed(1)} s`),
        onRound: (round, ms) =>
          console.log(
            `[round ${round}/${options.rounds}] all current ${ms.allCurrent.toFixed(1)} ms, half version 1 ${ms.mixed.toFixed(1)} ms (× ${(ms.mixed / ms.allCurrent).toFixed(3)})`,
          ),
      });
      console.log(
        `\n${versionsTable(report)}\n\n${upcastLine(report)}\n\n${report.verdict}.\n\nReports: ${files.join(', ')}`,
      );
    } finally {
      await database.close();
    }
  };
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`event-versions benchmark FAILED: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
