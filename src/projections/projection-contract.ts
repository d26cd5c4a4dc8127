import type { Checkpoint } from '../event-store/event-store.js';
import type { RangeStatement } from './apply-range.js';
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
   * Its set-based statements over a batch's range of events (after one checkpoint, up to
   * another), applied inside PostgreSQL in this order, each seeing what the ones before it
   * wrote, idempotently (see apply-range.ts).
   */
  statements: readonly RangeStatement[];
};
