import type { Sql } from '../database/connect.js';
import { createEventStore, START, type Checkpoint } from '../event-store/event-store.js';
import type { Logger } from '../logger.js';
import { applyEvents, LIVE_VIEWS, VIEW_COLUMNS, type ViewTables } from './apply-events.js';
import { compareCheckpoints, LOCKS, readCheckpoint, writeCheckpoint } from './checkpoint.js';

const FRESH_VIEWS: ViewTables = {
  conferences: 'rebuild_conference_list',
  seats: 'rebuild_seat_availability_view',
  reservations: 'rebuild_reservations_view',
};

export type RebuildOptions = {
  sql: Sql;
  log: Logger;
  batchSize?: number;
  /** Told how many events have been replayed so far. */
  onProgress?: (replayed: number) => void;
};

export type RebuildResult = { events: number; checkpoint: Checkpoint };

/**
 * Rebuilds every view from event position 0 into fresh tables, then swaps them in within one
 * transaction: readers keep seeing the old views until it commits and the new ones after, never
 * an empty view. The live projector may keep running meanwhile; the swap takes its batch lock,
 * brings the fresh views level with whichever of the two has read further, and moves the
 * checkpoint there.
 */
export const rebuildViews = async ({
  sql,
  log,
  batchSize = 2000,
  onProgress,
}: RebuildOptions): Promise<RebuildResult> => {
  const session = await sql.reserve();
  try {
    const [row] = await session<{ locked: boolean }[]>`select pg_try_advisory_lock(${LOCKS.rebuild}) as locked`;
    if (!row?.locked) throw new Error('another rebuild of the views is running');
    for (const view of Object.keys(FRESH_VIEWS) as (keyof ViewTables)[]) {
      await sql`drop table if exists ${sql(FRESH_VIEWS[view])}`;
      await sql`create unlogged table ${sql(FRESH_VIEWS[view])} (like ${sql(LIVE_VIEWS[view])} including all)`;
    }

    let replayed = 0;
    const replay = async (from: Checkpoint, upTo?: Checkpoint): Promise<Checkpoint> => {
      let checkpoint = from;
      for (;;) {
        const events = await createEventStore(sql).readSettled(checkpoint, batchSize, upTo);
        const last = events.at(-1);
        if (!last) return checkpoint;
        await sql.begin((tx) => applyEvents(tx, FRESH_VIEWS, events));
        checkpoint = last;
        replayed += events.length;
        onProgress?.(replayed);
      }
    };
    const rebuilt = await replay(START);

    const checkpoint = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCKS.batch})`;
      const live = await readCheckpoint(tx);
      let level = rebuilt;
      if (compareCheckpoints(live, rebuilt) > 0) {
        for (;;) {
          const events = await createEventStore(tx).readSettled(level, batchSize, live);
          const last = events.at(-1);
          if (!last) break;
          await applyEvents(tx, FRESH_VIEWS, events);
          level = last;
          replayed += events.length;
        }
      }
      for (const view of Object.keys(FRESH_VIEWS) as (keyof ViewTables)[]) {
        const columns = tx(VIEW_COLUMNS[view]);
        await tx`delete from ${tx(LIVE_VIEWS[view])}`;
        await tx`insert into ${tx(LIVE_VIEWS[view])} (${columns}) select ${columns} from ${tx(FRESH_VIEWS[view])}`;
      }
      await writeCheckpoint(tx, level);
      return level;
    });
    for (const table of Object.values(FRESH_VIEWS)) await sql`drop table if exists ${sql(table)}`;
    log.info({ events: replayed, position: checkpoint.position }, 'views rebuilt');
    return { events: replayed, checkpoint };
  } finally {
    await session`select pg_advisory_unlock_all()`.catch(() => {});
    session.release();
  }
};
