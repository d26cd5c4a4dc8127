import type { Queryable } from '../database/connect.js';
import type { Checkpoint } from '../event-store/event-store.js';
import type { ViewTables } from './view-tables.js';

/** What one batch of a projection applied: how many events, up to where, and which streams. */
export type AppliedBatch = { last: Checkpoint; count: number; streamIds: string[] };

/**
 * One projection: a set of views with a checkpoint, a leader and a batch lock of its own, so a
 * cheap view never waits behind an expensive one.
 */
export type Projection = {
  /** The name of its checkpoint row. */
  name: string;
  /**
   * Advisory lock keys. `leader` is held for as long as one projector instance applies this
   * projection's events (session lock: released when its process or connection dies); `batch` by
   * every transaction that writes its live views (each batch, the rebuild swap); `rebuild` by a
   * rebuild of it.
   */
  locks: { leader: number; batch: number; rebuild: number };
  /** The views it writes, and nobody else. */
  views: readonly (keyof ViewTables)[];
  /**
   * Applies the settled events after `after` (at most `limit`, none past `upTo`) to `tables`,
   * idempotently; undefined when there is none. Runs inside the caller's transaction.
   * `alongside` (the projector's checkpoint write and announcement, given what the batch applies)
   * is sent together with the view's writes: a
   * writing transaction holds back the settled horizon of every projection until it commits
   * (see settledBatch), so it must not wait a round trip more than it needs.
   */
  applyNext: (
    tx: Queryable,
    tables: ViewTables,
    after: Checkpoint,
    limit: number,
    upTo?: Checkpoint,
    alongside?: (batch: AppliedBatch) => Promise<void>,
  ) => Promise<AppliedBatch | undefined>;
};
