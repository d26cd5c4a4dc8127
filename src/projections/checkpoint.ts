import type { Queryable } from '../database/connect.js';
import { START, type Checkpoint } from '../event-store/event-store.js';

/**
 * Each projection's checkpoint: one row per projection name, advanced in the same transaction
 * as that projection's views, so each projection resumes from where it alone has got to.
 */
export const readCheckpoint = async (sql: Queryable, projection: string): Promise<Checkpoint> => {
  const [row] = await sql<Checkpoint[]>`
    select transaction_id::text as "transactionId", position from projection_checkpoints where name = ${projection}`;
  return row ?? START;
};

export const writeCheckpoint = async (sql: Queryable, projection: string, checkpoint: Checkpoint): Promise<void> => {
  await sql`
    insert into projection_checkpoints (name, transaction_id, position)
    values (${projection}, ${checkpoint.transactionId}::xid8, ${checkpoint.position})
    on conflict (name) do update
      set transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()`;
};

/** Orders checkpoints as the projector reads: by transaction id, then position. */
export const compareCheckpoints = (a: Checkpoint, b: Checkpoint): number => {
  const byTransaction = BigInt(a.transactionId) - BigInt(b.transactionId);
  return byTransaction !== 0n ? (byTransaction > 0n ? 1 : -1) : a.position - b.position;
};
