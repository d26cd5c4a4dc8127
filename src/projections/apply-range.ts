import type { Queryable } from '../database/connect.js';
import { createEventStore, inRange, type Checkpoint } from '../event-store/event-store.js';
import type { Projection } from './projection-contract.js';
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
 * How a projection applied by PostgreSQL itself takes its next batch: the settled batch's bounds,
 * then its statements over that range, no event data shipped to node and back, so a batch costs
 * about the same whether it holds 10 events or 5,000. The statements are sent at once and run in
 * their order by the transaction's one connection, each seeing what the ones before it wrote,
 * with the projector's checkpoint write (`alongside`; see projection-contract.ts).
 */
export const applyRange =
  (statements: readonly RangeStatement[]): Projection['applyNext'] =>
  async (tx, tables, after, limit, upTo, alongside) => {
    const batch = await createEventStore(tx).settledBatch(after, limit, upTo);
    if (!batch) return undefined;
    await Promise.all([...statements.map((apply) => apply(tx, tables, after, batch.last)), alongside?.(batch)]);
    return batch;
  };
