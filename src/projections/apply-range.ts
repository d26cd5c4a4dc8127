import type { Queryable } from '../database/connect.js';
import { createEventStore, inRange, type Checkpoint } from '../event-store/event-store.js';
import type { AppliedBatch, Projection } from './projection-contract.js';
import type { ViewTables } from './view-tables.js';

/** A set-based statement over the batch's range of events (after `after`, up to `last`). */
export type RangeStatement = (
  tx: Queryable,
  tables: ViewTables,
  after: Checkpoint,
  last: Checkpoint,
) => Promise<unknown>;

/** The batch's events (position, type, data), as the `batch` of a range statement's `with`. */
export const rangeEvents = (sql: Queryable, after: Checkpoint, last: Checkpoint) =>
  sql`select position, type, data from events where ${inRange(sql, after, last)}`;

/**
 * A projection's statements over one range, sent at once: the transaction's one connection runs
 * them in their order, each seeing what the ones before it wrote. The caller awaits them, with
 * whatever else it sends in the same round trip (the projector: its checkpoint and the commit).
 */
export const applyStatements = (
  { statements }: Pick<Projection, 'statements'>,
  tx: Queryable,
  tables: ViewTables,
  after: Checkpoint,
  last: Checkpoint,
): Promise<unknown>[] => statements.map((apply) => apply(tx, tables, after, last));

/**
 * Applies a projection's next batch inside the caller's transaction (a rebuild, tests): the
 * settled events after `after` (at most `limit`, none past `upTo`), undefined when there is
 * none. No event data is shipped to node and back, so a batch costs about the same whether it
 * holds 10 events or 5,000.
 */
export const applyNext = async (
  projection: Pick<Projection, 'statements'>,
  tx: Queryable,
  tables: ViewTables,
  after: Checkpoint,
  limit: number,
  upTo?: Checkpoint,
): Promise<AppliedBatch | undefined> => {
  const batch = await createEventStore(tx).settledBatch(after, limit, upTo);
  if (!batch) return undefined;
  await Promise.all(applyStatements(projection, tx, tables, batch.after, batch.last));
  return batch;
};
