import type postgres from 'postgres';
import type { Queryable } from '../database/connect.js';
import { RECORDED_EVENT_COLUMNS, type RecordedEvent } from './recorded-event.js';

/** The statements that read every stream in global order (what projectors follow), and the positions in that order. */

/**
 * A place in the order in which every stream is read (see settledBatch): the last event read, as
 * (transaction id, position). A projection keeps one as its checkpoint, advanced in the same
 * transaction as its views, so each projection resumes from where it alone has got to.
 */
export type Checkpoint = { transactionId: string; position: number };

/** Before the first event. */
export const START: Checkpoint = { transactionId: '0', position: 0 };

/** Orders checkpoints as projections read: by transaction id, then position. */
export const compareCheckpoints = (a: Checkpoint, b: Checkpoint): number => {
  const byTransaction = BigInt(a.transactionId) - BigInt(b.transactionId);
  return byTransaction !== 0n ? (byTransaction > 0n ? 1 : -1) : a.position - b.position;
};

/** Events past `checkpoint`, as a condition on the `events` table. */
export const after = (sql: Queryable, checkpoint: Checkpoint) =>
  sql`(transaction_id, position) > (${checkpoint.transactionId}::xid8, ${checkpoint.position})`;

/** Events up to `last` (inclusive), as a condition on the `events` table. */
const upTo = (sql: Queryable, last: Checkpoint) =>
  sql`(transaction_id, position) <= (${last.transactionId}::xid8, ${last.position})`;

/**
 * The events after `from` up to `last` (inclusive), as a condition on the `events` table: the
 * range of one batch. Every transaction in that range had ended when the batch was chosen (see
 * settledBatch), so the range holds the same events however often it is read within the batch.
 */
export const inRange = (sql: Queryable, from: Checkpoint, last: Checkpoint) =>
  sql`${after(sql, from)} and ${upTo(sql, last)}`;

/** Events of every stream after global position `afterPosition`, in position order. */
export const readAll = async (sql: Queryable, afterPosition: number, limit: number): Promise<RecordedEvent[]> =>
  sql<RecordedEvent[]>`
    select ${sql.unsafe(RECORDED_EVENT_COLUMNS)} from events
    where position > ${afterPosition}
    order by position
    limit ${limit}`;

/**
 * Where a batch starts: a checkpoint, or a statement fragment that reads one (a row of
 * `transaction_id`, `position`), such as a projection's stored checkpoint. Read by the batch's
 * own statement, the stored one costs no round trip of its own, and is read as of that
 * statement: after any lock taken by the statements sent before it in the same transaction.
 */
export type BatchStart = Checkpoint | postgres.PendingQuery<postgres.Row[]>;

/** A batch start as the `from_checkpoint` row of the batch's statement. */
const startRow = (sql: Queryable, from: BatchStart) =>
  'transactionId' in from
    ? sql`select ${from.transactionId}::xid8 as transaction_id, ${from.position}::bigint as position`
    : from;

/**
 * The next batch of a projection: the last (transaction id, position) of at most `limit` events
 * after `from`, in (transaction id, position) order, only from transactions that have ended;
 * how many events, and their streams; and `from` itself, as read (`after`). Not the events:
 * each projection applies the range (`inRange`) inside PostgreSQL. This is the safe way for a
 * projector to never pass over an event that commits late.
 *
 * Why this is correct: a position is drawn from a sequence, so a transaction can commit an
 * event with a LOWER position after another has committed a higher one; a reader that goes
 * by `position > checkpoint` skips the late one forever. Instead a batch takes only events whose
 * transaction id is below `pg_snapshot_xmin(pg_current_snapshot())`. Every transaction below
 * that horizon has ended, and every transaction that has not yet written gets a larger id, so
 * the set of events below the horizon never grows behind the reader. Taking that set in
 * (transaction id, position) order and checkpointing the pair therefore never skips an
 * event. Within one stream this order is the version order: an append waits for the
 * stream-row lock held by the previous append, whose transaction id is therefore smaller.
 * The price: a long-running transaction anywhere holds the horizon back and delays readers.
 * `last` bounds the batch (inclusive), for catching up to another reader's checkpoint.
 */
export const settledBatch = async (
  sql: Queryable,
  from: BatchStart,
  limit: number,
  last?: Checkpoint,
): Promise<{ after: Checkpoint; last: Checkpoint; count: number; streamIds: string[] } | undefined> => {
  const [row] = await sql<
    {
      afterTransactionId: string;
      afterPosition: number;
      transactionId: string | null;
      position: number | null;
      count: number;
      streamIds: string[];
    }[]
  >`
    with from_checkpoint as (${startRow(sql, from)}), batch as (
      select transaction_id, position, stream_id from events
      where (transaction_id, position) > (
          (select transaction_id from from_checkpoint), (select position from from_checkpoint)
        )
        and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ${last ? sql`and ${upTo(sql, last)}` : sql``}
      order by transaction_id, position
      limit ${limit}
    ), final as (select transaction_id, position from batch order by transaction_id desc, position desc limit 1)
    select (select transaction_id::text from from_checkpoint) as "afterTransactionId",
      (select position from from_checkpoint) as "afterPosition",
      (select transaction_id::text from final) as "transactionId", (select position from final) as position,
      (select count(*)::int from batch) as count,
      (select coalesce(array_agg(distinct stream_id), '{}') from batch) as "streamIds"`;
  if (!row || row.transactionId === null || row.position === null) return undefined;
  return {
    after: { transactionId: row.afterTransactionId, position: row.afterPosition },
    last: { transactionId: row.transactionId, position: row.position },
    count: row.count,
    streamIds: row.streamIds,
  };
};
