import type { Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';
import { LIVE_VIEWS, VIEW_COLUMNS, type ViewTables } from './view-tables.js';
import { compareCheckpoints, START, type Checkpoint } from '../event-store/event-store.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { applyNext } from './apply-range.js';
import type { Projection } from './projection-contract.js';

const FRESH_VIEWS: ViewTables = {
  conferences: 'rebuild_conference_list',
  seats: 'rebuild_seat_availability_view',
  reservations: 'rebuild_reservations_view',
};

export type RebuildOptions = {
  sql: Sql;
  log: Logger;
  /** The projection to rebuild; its views and checkpoint only, the others' are left alone. */
  projection: Projection;
  batchSize?: number;
  /** Told how many events have been replayed so far. */
  onProgress?: (replayed: number) => void;
};

export type RebuildResult = { events: number; checkpoint: Checkpoint };

/**
 * Rebuilds one projection's views from event position 0 into fresh tables, then swaps them in
 * within one transaction: readers keep seeing the old views until it commits and the new ones
 * after, never an empty view. The live projector may keep running meanwhile; the swap takes the
 * projection's batch lock, brings the fresh views level with whichever of the two has read
 * further, and moves the projection's checkpoint there.
 */
export const rebuildViews = async ({
  sql,
  log,
  projection,
  batchSize = 2000,
  onProgress,
}: RebuildOptions): Promise<RebuildResult> => {
  const session = await sql.reserve();
  try {
    const [row] = await session<{ locked: boolean }[]>`
      select pg_try_advisory_lock(${projection.locks.rebuild}) as locked`;
    if (!row?.locked) throw new Error(`another rebuild of ${projection.name} is running`);
    for (const view of projection.views) {
      await sql`drop table if exists ${sql(FRESH_VIEWS[view])}`;
      await sql`create unlogged table ${sql(FRESH_VIEWS[view])} (like ${sql(LIVE_VIEWS[view])} including all)`;
    }

    let replayed = 0;
    const rebuilt = await (async () => {
      let checkpoint = START;
      for (;;) {
        const batch = await sql.begin((tx) => applyNext(projection, tx, FRESH_VIEWS, checkpoint, batchSize));
        if (!batch) return checkpoint;
        checkpoint = batch.last;
        replayed += batch.count;
        onProgress?.(replayed);
      }
    })();

    const checkpoint = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${projection.locks.batch})`;
      const live = await readCheckpoint(tx, projection.name);
      let level = rebuilt;
      if (compareCheckpoints(live, rebuilt) > 0) {
        for (;;) {
          const batch = await applyNext(projection, tx, FRESH_VIEWS, level, batchSize, live);
          if (!batch) break;
          level = batch.last;
          replayed += batch.count;
        }
      }
      for (const view of projection.views) {
        const columns = tx(VIEW_COLUMNS[view]);
        await tx`delete from ${tx(LIVE_VIEWS[view])}`;
        await tx`insert into ${tx(LIVE_VIEWS[view])} (${columns}) select ${columns} from ${tx(FRESH_VIEWS[view])}`;
      }
      await writeCheckpoint(tx, projection.name, level);
      return level;
    });
    for (const view of projection.views) await sql`drop table if exists ${sql(FRESH_VIEWS[view])}`;
    log.info({ projection: projection.name, events: replayed, position: checkpoint.position }, 'views rebuilt');
    return { events: replayed, checkpoint };
  } finally {
    await session`select pg_advisory_unlock_all()`.catch(() => {});
    session.release();
  }
};
