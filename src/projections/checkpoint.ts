import type { Queryable } from '../database/connect.js';
import { START, type Checkpoint } from '../event-store/event-store.js';

/** The views' projection: one checkpoint row, advanced in the same transaction as the views. */
export const PROJECTION = 'views';

/**
 * Advisory lock keys. LEADER is held for as long as one projector instance is the one that
 * applies events (session lock: released when its process or connection dies). BATCH is taken
 * by every transaction that writes the live views (each projector batch, the rebuild swap).
 */
export const LOCKS = { leader: 72_630_001, batch: 72_630_002, rebuild: 72_630_003 } as const;

export const readCheckpoint = async (sql: Queryable): Promise<Checkpoint> => {
  const [row] = await sql<Checkpoint[]>`
    select transaction_id::text as "transactionId", position from projection_checkpoints where name = ${PROJECTION}`;
  return row ?? START;
};

export const writeCheckpoint = async (sql: Queryable, checkpoint: Checkpoint): Promise<void> => {
  await sql`
    insert into projection_checkpoints (name, transaction_id, position)
    values (${PROJECTION}, ${checkpoint.transactionId}::xid8, ${checkpoint.position})
    on conflict (name) do update
      set transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()`;
};

/** Orders checkpoints as the projector reads: by transaction id, then position. */
export const compareCheckpoints = (a: Checkpoint, b: Checkpoint): number => {
  const byTransaction = BigInt(a.transactionId) - BigInt(b.transactionId);
  return byTransaction !== 0n ? (byTransaction > 0n ? 1 : -1) : a.position - b.position;
};
