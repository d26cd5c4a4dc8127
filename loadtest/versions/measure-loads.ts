import { loadSeatAvailability } from '../../src/command-handlers/index.js';
import type { Sql } from '../../src/database/connect.js';
import { createEventStore } from '../../src/event-store/event-store.js';
import { createLogger } from '../../src/logger.js';
import { streamIdOf, toSeatAvailabilityEvent, type SeatAvailability } from '../../src/seat-availability/index.js';
import { createSnapshots } from '../../src/snapshots/index.js';
import type { VersionStreams } from './seed-streams.js';

/** Which of the two streams. */
export type StreamName = keyof VersionStreams;

/** The order of the two in every round: each load follows one of the other stream (but the very first). */
export const STREAM_ORDER: readonly StreamName[] = ['allCurrent', 'mixed'];

/** Milliseconds of each measured round, per stream, in round order. */
export type Samples = Record<StreamName, number[]>;

/** What two loads must agree on: the stream version and the seat counts (the conference's id differs by stream). */
export type LoadedCounts = {
  version: number;
  seatTypes: { type: string; capacity: number; reserved: number; held: number }[];
};

export const countsOf = (state: SeatAvailability, version: number): LoadedCounts => ({
  version,
  seatTypes:
    state.status === 'open'
      ? [...state.seatTypes].map(([type, { capacity, reserved, held }]) => ({ type, capacity, reserved, held }))
      : [],
});

/** Stops the run: a load that gives another state than the history makes every timing meaningless. */
const mustAgree = (stream: StreamName, loaded: LoadedCounts, expected: LoadedCounts) => {
  if (JSON.stringify(loaded) === JSON.stringify(expected)) return;
  throw new Error(
    `the ${stream} stream loaded ${JSON.stringify(loaded)}, but its history gives ${JSON.stringify(expected)}`,
  );
};

/**
 * Cold loads as the service loads a conference it has no snapshot of (`loadSeatAvailability`
 * with snapshots off and none stored): one query finding no snapshot, the whole stream read,
 * upcast (`toSeatAvailabilityEvent`) and replayed (`evolve`). The two streams take turns, so a
 * drift of the shared machine's speed weighs on both alike; the first round warms the driver, the
 * JIT and PostgreSQL's buffers, and is not kept. Every load is checked against `expected`.
 */
export const measureColdLoads = async (
  sql: Sql,
  streams: VersionStreams,
  expected: LoadedCounts,
  rounds: number,
  onRound: (round: number, ms: Record<StreamName, number>) => void = () => {},
): Promise<Samples> => {
  const deps = {
    eventStore: createEventStore(sql),
    snapshots: createSnapshots(sql, { interval: 0, log: createLogger('silent') }),
  };
  const samples: Samples = { allCurrent: [], mixed: [] };
  for (let round = 0; round <= rounds; round++) {
    const ms: Record<StreamName, number> = { allCurrent: 0, mixed: 0 };
    for (const stream of STREAM_ORDER) {
      const started = performance.now();
      const loaded = await loadSeatAvailability(deps, streams[stream]);
      ms[stream] = performance.now() - started;
      mustAgree(stream, countsOf(loaded.state, loaded.version), expected);
    }
    if (round === 0) continue;
    for (const stream of STREAM_ORDER) samples[stream].push(ms[stream]);
    onRound(round, ms);
  }
  return samples;
};

/**
 * The upcasting alone: `toSeatAvailabilityEvent` over every row of a stream as the store read it,
 * no database and no replay, taking turns and warming up as the loads do. The rows are read once,
 * after the loads, so they do not weigh on the loads' garbage collection.
 */
export const measureUpcasting = async (sql: Sql, streams: VersionStreams, rounds: number): Promise<Samples> => {
  const eventStore = createEventStore(sql);
  const rows = {
    allCurrent: await eventStore.readStream(streamIdOf(streams.allCurrent)),
    mixed: await eventStore.readStream(streamIdOf(streams.mixed)),
  };
  const samples: Samples = { allCurrent: [], mixed: [] };
  let upcast = 0;
  for (let round = 0; round <= rounds; round++) {
    for (const stream of STREAM_ORDER) {
      const started = performance.now();
      upcast += rows[stream].map(toSeatAvailabilityEvent).length;
      const ms = performance.now() - started;
      if (round > 0) samples[stream].push(ms);
    }
  }
  if (upcast !== (rows.allCurrent.length + rows.mixed.length) * (rounds + 1)) throw new Error('rows went missing');
  return samples;
};
