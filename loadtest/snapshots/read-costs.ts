import {
  createCommandHandlers,
  handleCommand,
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  toNewEvent,
} from '../../src/command-handlers/index.js';
import type { Sql } from '../../src/database/connect.js';
import { createEventStore } from '../../src/event-store/event-store.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { evolve, initialState, streamIdOf, type SeatAvailabilityEvent } from '../../src/seat-availability/index.js';
import { createSnapshots, SNAPSHOT_SCHEMA_VERSION, toSnapshot, writeSnapshot } from '../../src/snapshots/index.js';
import { seededRandom } from '../random.js';
import { percentiles, round } from '../stats.js';
import type { BenchOptions } from './bench-options.js';

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
  /** Reserve commands timed: `commands`, or fewer once they have taken 2 s (at least 3). */
  reserveCommands: number;
  snapshotJsonBytes: number;
  snapshotStoredBytes: number;
  snapshotWriteMs: number | null;
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
    events.push({
      type: 'SeatsReserved',
      data: { conferenceId, reservationId: id, seats, reservedAt: at, attendee: null },
    });
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

export const timed = async (action: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await action();
  return performance.now() - started;
};

export const summary = (samples: number[]) => {
  const p = percentiles(samples);
  return { median: round(p.p50, 2), p90: round(p.p90, 2) };
};

/**
 * Appends the generated history as one stream, `perAppend` events per append (the events of an
 * append share one recorded time, so a point-in-time read lands on an append's last version).
 */
export const appendHistory = async (
  sql: Sql,
  conferenceId: string,
  length: number,
  activeHolds: number,
  perAppend = 1000,
) => {
  const events = history(conferenceId, length, 1, activeHolds);
  await appendEvents(sql, conferenceId, events, { perAppend });
  return events;
};

/**
 * Appends events to a conference's stream as this release writes them (the store's append, each
 * event in its type's current version), `perAppend` at a time, the first after `fromVersion`.
 */
export const appendEvents = async (
  sql: Sql,
  conferenceId: string,
  events: SeatAvailabilityEvent[],
  { fromVersion = 0, perAppend = 1000 }: { fromVersion?: number; perAppend?: number } = {},
) => {
  const eventStore = createEventStore(sql);
  for (let offset = 0; offset < events.length; offset += perAppend) {
    const chunk = events.slice(offset, offset + perAppend);
    await eventStore.append(
      streamIdOf(conferenceId),
      fromVersion + offset,
      chunk.map((event) => toNewEvent(event, {})),
    );
  }
};

/**
 * The stream's snapshots as the policy would have left them: one at every multiple of the
 * interval up to `upTo`. Returns them, oldest first.
 */
export const placeSnapshots = async (
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

/**
 * As autovacuum leaves a live database: a history appended a moment ago has no statistics and
 * no visibility map yet, and reads timed then depend on whether autovacuum happened to get there
 * first (cold loads at 100,000 events took 2-9 ms in two runs and 15-17 ms in a third).
 */
export const settle = async (sql: Sql) => {
  await sql`vacuum (analyze) events, snapshots`;
};

export const measureReads = async (
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
  await settle(sql);

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
  // Where each command replays a long stream, a few say as much as twenty, in a fraction of the time.
  const budgetMs = 2000;
  for (let i = 0; i < options.commands && (i < 3 || commands.reduce((a, b) => a + b, 0) < budgetMs); i++) {
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
    reserveCommands: commands.length,
    snapshotJsonBytes: sizes.json,
    snapshotStoredBytes: sizes.stored,
    snapshotWriteMs,
  };
};
