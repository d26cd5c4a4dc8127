import type { Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';
import { projectionLag, type ProjectionLag } from './checkpoint.js';
import { Projector } from './projector-loop.js';
import { remainingSeats, reservations } from './all-projections.js';
import { announceViewsChanged } from './views-changed-channel.js';

export type ProjectorsOptions = {
  sql: Sql;
  log: Logger;
  /** Most events applied in one transaction to the reservations view (a row per reservation). */
  batchSize: number;
  /** Most events applied in one transaction to the remaining seats: a batch costs about the same at any size. */
  seatsBatchSize: number;
  pollIntervalMs: number;
  onApplied?: (projection: string, count: number) => void;
};

/**
 * Least time between batches (see ProjectorOptions): the remaining seats are what every visitor
 * sees, so their lag may grow by little (target: 100 ms at p99); the reservations view is read
 * by id after a booking and may trail by more, in larger, cheaper batches. A batch costs about
 * the same at any size (two round trips and the statements' fixed cost), so in a surge this
 * pause sets what the remaining seats cost: 20 ms, not the 10 of issue 14 (chosen for lag alone,
 * seats lag p99 20-68 ms), halves their batches for about 10 ms more lag (docs/results.md, where
 * the CPU goes).
 */
const SEATS_MIN_BATCH_INTERVAL_MS = 20;
const RESERVATIONS_MIN_BATCH_INTERVAL_MS = 250;

/** Lag of each projection, by its name. */
export type ProjectionLags = Record<string, ProjectionLag>;

/** How far each projection trails the events, read from the checkpoints: any process can ask, leader or not. */
export const projectionLags = async (sql: Sql): Promise<ProjectionLags> => {
  const [seatsLag, reservationsLag] = await Promise.all([
    projectionLag(sql, remainingSeats),
    projectionLag(sql, reservations),
  ]);
  return { [remainingSeats.name]: seatsLag, [reservations.name]: reservationsLag };
};

/**
 * The projectors of one process, one per projection, each with its own leader lock and
 * checkpoint: the remaining seats keep up on their own while the reservations view catches up.
 */
export const createProjectors = (options: ProjectorsOptions) => {
  const { sql, log, pollIntervalMs, onApplied } = options;
  const seats = new Projector({
    sql,
    log,
    projection: remainingSeats,
    batchSize: options.seatsBatchSize,
    pollIntervalMs,
    minBatchIntervalMs: SEATS_MIN_BATCH_INTERVAL_MS,
    onApplied: (count) => onApplied?.(remainingSeats.name, count),
    // Live readers, in every API process, show the remaining seats: they follow this projection alone.
    announce: announceViewsChanged,
  });
  const reservationsProjector = new Projector({
    sql,
    log,
    projection: reservations,
    batchSize: options.batchSize,
    pollIntervalMs,
    minBatchIntervalMs: RESERVATIONS_MIN_BATCH_INTERVAL_MS,
    onApplied: (count) => onApplied?.(reservations.name, count),
  });
  const all = [seats, reservationsProjector];
  return {
    seats,
    reservations: reservationsProjector,
    /** True when this process leads every projection. */
    get isLeader(): boolean {
      return all.every((projector) => projector.isLeader);
    },
    start() {
      for (const projector of all) projector.start();
      return this;
    },
    async stop(): Promise<void> {
      await Promise.all(all.map((projector) => projector.stop()));
    },
    /** One batch of each projection; how many events they applied together (tests catch up with it). */
    async applyNextBatch(): Promise<number> {
      let applied = 0;
      for (const projector of all) applied += await projector.applyNextBatch();
      return applied;
    },
    lag: () => projectionLags(sql),
  };
};

export type Projectors = ReturnType<typeof createProjectors>;
