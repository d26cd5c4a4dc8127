import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createCommandHandlers,
  handleCommand,
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  toNewEvent,
} from '../src/command-handlers/index.js';
import { loadConfig } from '../src/config.js';
import { connect, type Sql } from '../src/database/connect.js';
import { databaseUrl, ensureDatabase } from '../src/database/databases.js';
import { openDatabase } from '../src/database/open-database.js';
import { applyMigrations } from '../src/database/migrate.js';
import { createEventStore } from '../src/event-store/event-store.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { evolve, initialState, streamIdOf, type SeatAvailabilityEvent } from '../src/seat-availability/index.js';
import { createSnapshots, SNAPSHOT_SCHEMA_VERSION, toSnapshot, writeSnapshot } from '../src/snapshots/index.js';
import { machine } from './report/loadtest-report.js';
import { htmlTable, markdownTable } from './report/markdown.js';
import { escapeHtml, lineChart, page } from './report/svg.js';
import { seededRandom } from './random.js';
import { percentiles, round } from './stats.js';

export type BenchOptions = {
  intervals: number[];
  lengths: number[];
  samples: number;
  commands: number;
  /** Holds still pending at the end of every stream (its last events): a checkout in full swing. */
  holds: number;
  outDir: string;
};

/** One measured (stream length, snapshot interval) pair; the rows of the report. */
export type BenchRow = {
  streamLength: number;
  /** Of its events, holds still pending at the end. */
  activeHolds: number;
  snapshotInterval: number;
  /** Stream version the latest snapshot reflects (0 = none) and events replayed after it. */
  snapshotVersion: number;
  tailEvents: number;
  /** Snapshots kept for the stream (every interval's, for point-in-time reads). */
  snapshotsKept: number;
  coldLoadMs: { median: number; p90: number };
  /** The availability as of the middle of the stream's history. */
  asOfMiddleMs: { median: number; p90: number };
  reserveCommandMs: { median: number; p90: number };
  snapshotJsonBytes: number;
  snapshotStoredBytes: number;
  snapshotWriteMs: number | null;
};

export type BenchReport = {
  schemaVersion: 1;
  kind: 'snapshot-benchmark';
  startedAt: string;
  finishedAt: string;
  machine: ReturnType<typeof machine>;
  options: BenchOptions;
  rows: BenchRow[];
};

const numbers = (text: string, name: string) =>
  text.split(',').map((v) => {
    const n = Number(v.replace(/k$/i, '000').replace(/m$/i, '000000'));
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a list of whole numbers (got "${text}")`);
    return n;
  });

export const parseBenchOptions = (argv: string[], now = new Date()): BenchOptions => {
  const { values } = parseArgs({
    args: argv,
    options: {
      intervals: { type: 'string' },
      lengths: { type: 'string' },
      samples: { type: 'string' },
      holds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  return {
    intervals: numbers(values.intervals ?? (quick ? '0,10,100' : '0,10,100,1000,10000'), 'intervals'),
    lengths: numbers(values.lengths ?? (quick ? '300,1000' : '1000,10000,100000'), 'lengths'),
    samples: Number(values.samples ?? (quick ? 3 : 7)),
    commands: quick ? 5 : 20,
    holds: numbers(values.holds ?? '0', 'holds')[0] ?? 0,
    outDir: values.out ?? `loadtest/results/${now.toISOString().replace(/[:.]/g, '-')}-snapshots`,
  };
};

/**
 * A realistic history: the conference, then 85% new reservations of 1-4 seats and 15% cancels
 * of a live one, and last `activeHolds` holds of a seat each, still pending (due long after).
 * The state stays a few counts whatever the length and the holds; only the stream grows.
 */
export const history = (conferenceId: string, length: number, seed = 1, activeHolds = 0): SeatAvailabilityEvent[] => {
  const random = seededRandom(seed);
  const at = '2026-11-21T10:00:00.000Z';
  const events: SeatAvailabilityEvent[] = [
    {
      type: 'ConferenceCreated',
      data: {
        conferenceId,
        name: 'Benchmark',
        seatTypes: [
          { type: 'standard', capacity: 10_000_000 },
          { type: 'vip', capacity: 10_000_000 },
        ],
        createdAt: at,
      },
    },
  ];
  const live: { id: string; seats: { seatType: string; quantity: number }[] }[] = [];
  for (let i = 1; i < length; i++) {
    if (i >= length - activeHolds) {
      const hold = {
        conferenceId,
        reservationId: `hold-${i.toString(36)}`,
        seats: [{ seatType: 'standard', quantity: 1 }],
      };
      events.push({ type: 'SeatsHeld', data: { ...hold, heldAt: at, expiresAt: '2026-11-21T10:15:00.000Z' } });
      continue;
    }
    if (random() < 0.15 && live.length > 0) {
      const [cancelled] = live.splice(Math.floor(random() * live.length), 1);
      if (cancelled) {
        events.push({
          type: 'ReservationCancelled',
          data: { conferenceId, reservationId: cancelled.id, seats: cancelled.seats, cancelledAt: at },
        });
        continue;
      }
    }
    const seats = [{ seatType: random() < 0.9 ? 'standard' : 'vip', quantity: 1 + Math.floor(random() * 4) }];
    const id = `bench-${i.toString(36)}-${Math.floor(random() * 1e9).toString(36)}`;
    live.push({ id, seats });
    events.push({ type: 'SeatsReserved', data: { conferenceId, reservationId: id, seats, reservedAt: at } });
  }
  return events;
};

/**
 * Where the stream's latest snapshot is, on average: the policy snapshots at every multiple of
 * the interval, so a stream read at a random moment has about half an interval of events after
 * its last snapshot. We place it at the last multiple at or below `length - interval / 2`.
 */
export const snapshotVersionFor = (length: number, interval: number): number => {
  if (interval === 0) return 0;
  return Math.max(0, Math.floor((length - Math.floor(interval / 2)) / interval) * interval);
};

const timed = async (action: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await action();
  return performance.now() - started;
};

const summary = (samples: number[]) => {
  const p = percentiles(samples);
  return { median: round(p.p50, 2), p90: round(p.p90, 2) };
};

/** Appends the generated history as one stream, a thousand events per append. */
const appendHistory = async (sql: Sql, conferenceId: string, length: number, activeHolds: number) => {
  const events = history(conferenceId, length, 1, activeHolds);
  const eventStore = createEventStore(sql);
  for (let version = 0; version < events.length; version += 1000) {
    const chunk = events.slice(version, version + 1000);
    await eventStore.append(
      streamIdOf(conferenceId),
      version,
      chunk.map((event) => toNewEvent(event, {})),
    );
  }
  return events;
};

/**
 * The stream's snapshots as the policy would have left them: one at every multiple of the
 * interval up to `upTo`. Returns them, oldest first.
 */
const placeSnapshots = async (
  sql: Sql,
  streamId: string,
  events: SeatAvailabilityEvent[],
  interval: number,
  upTo: number,
) => {
  await sql`delete from snapshots where stream_id = ${streamId}`;
  if (interval === 0) return [];
  let state = initialState();
  const rows: { version: number; state: ReturnType<typeof toSnapshot> }[] = [];
  events.slice(0, upTo).forEach((event, i) => {
    state = evolve(state, event);
    if ((i + 1) % interval === 0 && state.status === 'open') rows.push({ version: i + 1, state: toSnapshot(state) });
  });
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    await sql`
      insert into snapshots (stream_id, version, position, schema_version, state)
      select ${streamId}, e.stream_version, e.position, ${SNAPSHOT_SCHEMA_VERSION}, x.state
      from jsonb_to_recordset(${sql.json(chunk)}) as x(version int, state jsonb)
      join events e on e.stream_id = ${streamId} and e.stream_version = x.version`;
  }
  return rows;
};

const measure = async (
  sql: Sql,
  conferenceId: string,
  events: SeatAvailabilityEvent[],
  interval: number,
  options: BenchOptions,
): Promise<BenchRow> => {
  const log = createLogger('silent');
  const streamId = streamIdOf(conferenceId);
  const length = events.length;
  const eventStore = createEventStore(sql);
  const snapshotVersion = snapshotVersionFor(length, interval);
  const placed = await placeSnapshots(sql, streamId, events, interval, snapshotVersion);
  const latest = placed.at(-1);

  let snapshotWriteMs: number | null = null;
  let sizes = { json: 0, stored: 0 };
  if (latest) {
    const [row] = await sql<{ position: number }[]>`
      select position from events where stream_id = ${streamId} and stream_version = ${latest.version}`;
    // Writing, timed on scratch streams so the real one keeps its snapshots.
    const writes: number[] = [];
    for (let i = 0; i < options.samples; i++) {
      writes.push(
        await timed(() =>
          writeSnapshot(sql, `${streamId}-scratch-${i}`, {
            state: latest.state,
            version: latest.version,
            position: row?.position ?? 0,
          }),
        ),
      );
    }
    await sql`delete from snapshots where stream_id like ${`${streamId}-scratch-%`}`;
    snapshotWriteMs = summary(writes).median;
    const [size] = await sql<{ json: number; stored: number }[]>`
      select octet_length(state::text) as json, pg_column_size(state) as stored from snapshots
      where stream_id = ${streamId} and version = ${snapshotVersion}`;
    sizes = { json: size?.json ?? 0, stored: size?.stored ?? 0 };
  }

  const snapshots = createSnapshots(sql, { interval, log });
  const loads: number[] = [];
  for (let i = 0; i < options.samples; i++) {
    loads.push(await timed(() => loadSeatAvailability({ eventStore, snapshots }, conferenceId)));
  }
  const [middle] = await sql<{ recordedAt: Date }[]>`
    select recorded_at as "recordedAt" from events
    where stream_id = ${streamId} and stream_version = ${Math.max(1, Math.floor(length / 2))}`;
  const asOfLoads: number[] = [];
  for (let i = 0; i < options.samples; i++) {
    asOfLoads.push(
      await timed(() =>
        loadSeatAvailabilityAsOf({ eventStore, snapshots }, conferenceId, middle?.recordedAt ?? new Date()),
      ),
    );
  }

  // The direct write path: every command loads the aggregate, as a cold process would (its append requires its
  // reservation id new).
  const commandDeps = {
    eventStore,
    snapshots,
    metrics: createMetrics(async () => ({})),
    retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 10 },
  };
  const handlers = createCommandHandlers({
    clock: () => new Date(),
    handle: (command, metadata) => handleCommand(commandDeps, command, metadata),
  });
  const commands: number[] = [];
  for (let i = 0; i < options.commands; i++) {
    commands.push(
      await timed(() =>
        handlers.reserveSeats({
          conferenceId,
          reservationId: `bench-command-${interval}-${i}`,
          seats: [{ seatType: 'standard', quantity: 1 }],
        }),
      ),
    );
  }
  await snapshots.settle();
  return {
    streamLength: length,
    activeHolds: events.filter((event) => event.type === 'SeatsHeld').length,
    snapshotInterval: interval,
    snapshotVersion,
    tailEvents: length - snapshotVersion,
    snapshotsKept: placed.length,
    coldLoadMs: summary(loads),
    asOfMiddleMs: summary(asOfLoads),
    reserveCommandMs: summary(commands),
    snapshotJsonBytes: sizes.json,
    snapshotStoredBytes: sizes.stored,
    snapshotWriteMs,
  };
};

const tableOf = (rows: BenchRow[]) => ({
  header: [
    'stream length',
    'active holds',
    'interval',
    'tail events',
    'snapshots kept',
    'cold load ms (median)',
    'p90',
    'asOf middle ms (median)',
    'reserve ms (median)',
    'p90',
    'snapshot JSON bytes',
    'stored bytes',
    'snapshot write ms',
  ],
  rows: rows.map((r) => [
    r.streamLength,
    r.activeHolds,
    r.snapshotInterval === 0 ? 'none' : r.snapshotInterval,
    r.tailEvents,
    r.snapshotsKept,
    r.coldLoadMs.median,
    r.coldLoadMs.p90,
    r.asOfMiddleMs.median,
    r.reserveCommandMs.median,
    r.reserveCommandMs.p90,
    r.snapshotJsonBytes,
    r.snapshotStoredBytes,
    r.snapshotWriteMs ?? '-',
  ]),
});

export const writeBenchReport = async (report: BenchReport): Promise<string[]> => {
  const dir = report.options.outDir;
  await mkdir(dir, { recursive: true });
  const table = tableOf(report.rows);
  const intro = `Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}. ${report.options.samples} samples per figure.`;
  const md = `# seat-surge snapshot benchmark, ${report.startedAt}\n\n${intro}\n\n${markdownTable(table.header, table.rows)}\n`;
  const intervals = [...new Set(report.rows.map((r) => r.snapshotInterval))];
  const seriesBy = (y: (r: BenchRow) => number) =>
    intervals.map((interval) => ({
      label: interval === 0 ? 'no snapshots' : `every ${interval}`,
      points: report.rows
        .filter((r) => r.snapshotInterval === interval)
        .map((r) => [r.streamLength, y(r)] as [number, number]),
    }));
  const html = page(
    `seat-surge snapshot benchmark, ${report.startedAt}`,
    [
      `<p>${escapeHtml(intro)}</p>`,
      lineChart({
        title: 'Cold aggregate load time by stream length',
        xLabel: 'events in the stream (log scale)',
        yLabel: 'median ms (log scale)',
        logX: true,
        logY: true,
        series: seriesBy((r) => r.coldLoadMs.median),
      }),
      lineChart({
        title: 'Point-in-time read (asOf the middle of the history) by stream length',
        xLabel: 'events in the stream (log scale)',
        yLabel: 'median ms (log scale)',
        logX: true,
        logY: true,
        series: seriesBy((r) => r.asOfMiddleMs.median),
      }),
      lineChart({
        title: 'Reserve command latency by stream length',
        xLabel: 'events in the stream',
        yLabel: 'median ms',
        series: seriesBy((r) => r.reserveCommandMs.median),
      }),
      lineChart({
        title: 'Snapshot size by stream length',
        xLabel: 'events in the stream',
        yLabel: 'JSON bytes',
        series: seriesBy((r) => r.snapshotJsonBytes).filter((s) => s.label !== 'no snapshots'),
      }),
      htmlTable(table.header, table.rows, escapeHtml),
    ].join('\n'),
  );
  const files = [join(dir, 'report.json'), join(dir, 'report.md'), join(dir, 'report.html')];
  await writeFile(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files[1]!, md);
  await writeFile(files[2]!, html);
  return files;
};

/** Runs every (length, interval) pair on a fresh database of the given server (`events` partitioned as asked). */
export const runBench = async (
  serverUrl: string,
  options: BenchOptions,
  onRow: (row: BenchRow) => void = () => {},
  { eventsPartitions = 0 }: { eventsPartitions?: number } = {},
) => {
  const startedAt = new Date();
  const name = `bench_${startedAt.getTime().toString(36)}`;
  const url = await ensureDatabase(serverUrl, name);
  await applyMigrations(url, { eventsPartitions });
  const sql = connect(url, 4);
  const rows: BenchRow[] = [];
  try {
    for (const length of options.lengths) {
      // One stream per length, measured under every interval: only its snapshots change.
      const conferenceId = `bench-${length}-${Date.now().toString(36)}`;
      const events = await appendHistory(sql, conferenceId, length, Math.min(options.holds, length - 1));
      for (const interval of options.intervals) {
        const row = await measure(sql, conferenceId, events, interval, options);
        rows.push(row);
        onRow(row);
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  const report: BenchReport = {
    schemaVersion: 1,
    kind: 'snapshot-benchmark',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machine(),
    options,
    rows,
  };
  return { report, files: await writeBenchReport(report), database: databaseUrl(serverUrl, name) };
};

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const main = async () => {
    const options = parseBenchOptions(process.argv.slice(2));
    const config = loadConfig({
      ...process.env,
      EMBEDDED_POSTGRES_DIR: '.data/bench',
      EMBEDDED_POSTGRES_PORT: '54331',
    });
    const database = await openDatabase(config, createLogger('warn'));
    try {
      console.log(
        `Snapshot benchmark: intervals ${options.intervals.join(', ')} × lengths ${options.lengths.join(', ')}${options.holds ? `, the last ${options.holds} events of each stream pending holds` : ''}`,
      );
      const total = options.intervals.length * options.lengths.length;
      let done = 0;
      const onRow = (r: BenchRow) => {
        done++;
        console.log(
          `[${done}/${total}] ${r.streamLength} events (${r.activeHolds} holds active), interval ${r.snapshotInterval || 'none'}: cold load ${r.coldLoadMs.median} ms, asOf middle ${r.asOfMiddleMs.median} ms, reserve ${r.reserveCommandMs.median} ms, snapshot ${r.snapshotJsonBytes} B`,
        );
      };
      const { files } = await runBench(database.url, options, onRow, { eventsPartitions: config.eventsPartitions });
      console.log(`\nReports: ${files.join(', ')}`);
    } finally {
      await database.close();
    }
  };
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`snapshot benchmark failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
