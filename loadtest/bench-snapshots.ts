import { createBenchDatabase, embeddedPostmaster, openBenchServer } from './bench-database.js';
import { parseOrExit } from './options.js';
import { machine } from './report/loadtest-report.js';
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from './snapshots/bench-options.js';
import { buildBenchReport, comparisonLine, writeBenchReport } from './snapshots/bench-report.js';
import { appendHistory, measureReads, type BenchRow } from './snapshots/read-costs.js';
import { measureRetention } from './snapshots/retention.js';
import { runWriteCosts, type SurgeRun } from './snapshots/write-costs.js';

export { parseBenchOptions, type BenchOptions } from './snapshots/bench-options.js';
export { type BenchReport } from './snapshots/bench-report.js';
export { history, snapshotVersionFor, type BenchRow } from './snapshots/read-costs.js';

export type BenchProgress = {
  /** Partitions of the benchmark database's `events` (EVENTS_PARTITIONS); 0: a plain table. */
  eventsPartitions?: number;
  onRow?: (row: BenchRow) => void;
  onSurge?: (run: SurgeRun) => void;
  /** The postmaster of the PostgreSQL behind `serverUrl`, when this process started it: its CPU is the service's. */
  databasePid?: number;
};

/**
 * The read costs of every (length, interval) pair, the retention measurement, then the write-cost
 * phase (a server per interval, surges through HTTP), all on fresh databases of the given server.
 */
export const runBench = async (serverUrl: string, options: BenchOptions, progress: BenchProgress = {}) => {
  const startedAt = new Date();
  const name = `bench_${startedAt.getTime().toString(36)}`;
  const { url, sql } = await createBenchDatabase(serverUrl, name, { eventsPartitions: progress.eventsPartitions });
  const rows: BenchRow[] = [];
  let retention;
  try {
    for (const length of options.lengths) {
      // One stream per length, measured under every interval: only its snapshots change.
      const conferenceId = `bench-${length}-${Date.now().toString(36)}`;
      const events = await appendHistory(sql, conferenceId, length, Math.min(options.holds, length - 1));
      for (const interval of options.intervals) {
        const row = await measureReads(sql, conferenceId, events, interval, options);
        rows.push(row);
        progress.onRow?.(row);
      }
    }
    retention = await measureRetention(sql, options);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const surges = await runWriteCosts(serverUrl, name, options, {
    ...(progress.databasePid === undefined ? {} : { databasePid: progress.databasePid }),
    ...(progress.onSurge ? { onRun: progress.onSurge } : {}),
  });
  const report = buildBenchReport(startedAt, machine(), options, rows, surges, retention);
  return { report, files: await writeBenchReport(report), database: url };
};

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const options = parseOrExit(() => parseBenchOptions(process.argv.slice(2)), BENCH_USAGE);
  const main = async () => {
    const { config, database } = await openBenchServer({ dataDir: '.data/bench', port: 54331 });
    try {
      console.log(
        `Snapshot benchmark: intervals ${options.intervals.join(', ')} × lengths ${options.lengths.join(', ')}${options.holds ? `, the last ${options.holds} events of each stream pending holds` : ''}; then ${options.repeats} pass(es) of ${options.surgeSeconds} s surges per interval`,
      );
      const total = options.intervals.length * options.lengths.length;
      let done = 0;
      const started = performance.now();
      const at = () => `${Math.round((performance.now() - started) / 1000)} s`;
      const databasePid = embeddedPostmaster(config);
      const { report, files } = await runBench(database.url, options, {
        eventsPartitions: config.eventsPartitions,
        ...(databasePid === undefined ? {} : { databasePid }),
        onRow: (r) => {
          done++;
          console.log(
            `[${done}/${total}, ${at()}] ${r.streamLength} events (${r.activeHolds} holds active), interval ${r.snapshotInterval || 'none'}: cold load ${r.coldLoadMs.median} ms (p90 ${r.coldLoadMs.p90}), asOf middle ${r.asOfMiddleMs.median} ms, reserve ${r.reserveCommandMs.median} ms, snapshot ${r.snapshotJsonBytes} B`,
          );
        },
        onSurge: (s) =>
          console.log(
            `[${at()}] surge pass ${s.pass}, interval ${s.interval || 'none'}: ${s.committedPerSecond} committed/s, p99 ${s.p99Ms} ms, server CPU ${s.serverCpuUsPerCommitted ?? '-'} µs/committed, ${s.snapshotsWrittenPerSecond} snapshots/s, audit ${s.phase.audit?.passed === false ? 'FAILED' : 'ok'}`,
          ),
      });
      for (const r of report.retention)
        console.log(
          `retention SNAPSHOT_KEEP=${r.keep}: ${r.rowsKept} rows, asOf ${r.asOfMs.median} ms (p90 ${r.asOfMs.p90})`,
        );
      console.log(`\n${comparisonLine(report)}`);
      console.log(`\nRecommendation: ${report.recommendation.line}.`);
      console.log(`\nReports (after ${at()}): ${files.join(', ')}`);
      return report.surges.every((s) => s.phase.audit?.passed !== false) ? 0 : 2;
    } finally {
      await database.close();
    }
  };
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`snapshot benchmark failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
