import { isDeepStrictEqual } from 'node:util';
import { loadSeatAvailabilityAsOf } from '../../src/command-handlers/index.js';
import type { Sql } from '../../src/database/connect.js';
import { createEventStore } from '../../src/event-store/event-store.js';
import { createLogger } from '../../src/logger.js';
import { streamIdOf } from '../../src/seat-availability/index.js';
import { createSnapshots, pruneSnapshots, type SnapshotKeep } from '../../src/snapshots/index.js';
import type { BenchOptions } from './bench-options.js';
import { appendHistory, placeSnapshots, settle, summary, timed } from './read-costs.js';

/** One SNAPSHOT_KEEP setting on one stream: the rows it keeps, and what point-in-time reads cost then. */
export type RetentionRow = {
  /** `all`, or K: the latest snapshot and the lowest of each span of K versions (see keptSnapshots). */
  keep: 'all' | number;
  snapshotInterval: number;
  streamLength: number;
  rowsKept: number;
  /** Point-in-time reads at times spread over the stream's history. */
  asOfMs: { median: number; p90: number };
  points: number;
};

/**
 * Events per append of the retention stream: prime, so the appends' last versions (where a point
 * in time lands, as an append's events share its time) fall at every offset from a kept snapshot.
 */
const PER_APPEND = 997;

/**
 * Rows kept against point-in-time latency: the longest stream with a snapshot at every multiple
 * of the smallest interval, read at times spread over its history under `all`, then pruned by the
 * real pruning to each K (in increasing order: the multiples of a larger K are kept by a smaller
 * one) and read again. Every answer is checked against the one read with every snapshot kept.
 */
export const measureRetention = async (sql: Sql, options: BenchOptions): Promise<RetentionRow[]> => {
  const interval = Math.min(...options.intervals.filter((i) => i > 0));
  const length = Math.max(...options.lengths);
  if (!Number.isFinite(interval) || !Number.isFinite(length)) return [];
  const conferenceId = `bench-keep-${length}-${Date.now().toString(36)}`;
  const streamId = streamIdOf(conferenceId);
  const events = await appendHistory(sql, conferenceId, length, 0, PER_APPEND);
  await placeSnapshots(sql, streamId, events, interval, length);
  await settle(sql);
  const times = await sql<{ at: Date }[]>`
    select distinct recorded_at as at from events where stream_id = ${streamId} order by at`;
  const count = Math.min(times.length, Math.max(15, options.samples * 3));
  const points = Array.from({ length: count }, (_, i) => times[Math.floor(((i + 0.5) * times.length) / count)]!.at);
  const deps = {
    eventStore: createEventStore(sql),
    snapshots: createSnapshots(sql, { interval, log: createLogger('silent') }),
  };
  const keeps: SnapshotKeep[] = [
    'all',
    ...[...new Set(options.keeps)]
      .filter((k) => k % interval === 0 && k < length)
      .sort((a, b) => a - b)
      .map((every) => ({ every })),
  ];
  let answers: unknown[] | undefined;
  const rows: RetentionRow[] = [];
  for (const keep of keeps) {
    await pruneSnapshots(sql, streamId, keep);
    const [kept] = await sql<
      { rows: number }[]
    >`select count(*)::int as rows from snapshots where stream_id = ${streamId}`;
    const states: unknown[] = [];
    const latencies: number[] = [];
    for (const at of points) {
      latencies.push(
        await timed(async () => states.push((await loadSeatAvailabilityAsOf(deps, conferenceId, at)).state)),
      );
    }
    answers ??= states;
    if (!isDeepStrictEqual(states, answers)) {
      throw new Error(
        `a point-in-time read answered differently with SNAPSHOT_KEEP=${keep === 'all' ? 'all' : keep.every}`,
      );
    }
    rows.push({
      keep: keep === 'all' ? 'all' : keep.every,
      snapshotInterval: interval,
      streamLength: length,
      rowsKept: kept?.rows ?? 0,
      asOfMs: summary(latencies),
      points: points.length,
    });
  }
  return rows;
};
