import type { Queryable } from '../database/connect.js';
import { after, START, type Checkpoint } from '../event-store/read-all.js';

/** A projection's checkpoint (see Checkpoint in the event store): read, written, and how far behind it is. */
export const readCheckpoint = async (sql: Queryable, projection: string): Promise<Checkpoint> => {
  const [row] = await sql<Checkpoint[]>`
    select transaction_id::text as "transactionId", position from projection_checkpoints where name = ${projection}`;
  return row ?? START;
};

/**
 * A projection's checkpoint as a fragment of another statement (START when it has none): the
 * projector's batch reads it in the statement that chooses the batch (see settledBatch).
 */
export const storedCheckpoint = (sql: Queryable, projection: string) => sql`
  select coalesce((select transaction_id from projection_checkpoints where name = ${projection}), ${START.transactionId}::xid8) as transaction_id,
    coalesce((select position from projection_checkpoints where name = ${projection}), ${START.position}::bigint) as position`;

export const writeCheckpoint = async (sql: Queryable, projection: string, checkpoint: Checkpoint): Promise<void> => {
  await sql`
    insert into projection_checkpoints (name, transaction_id, position)
    values (${projection}, ${checkpoint.transactionId}::xid8, ${checkpoint.position})
    on conflict (name) do update
      set transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()`;
};

export type ProjectionLag = { events: number; milliseconds: number };

/**
 * Events committed but not yet applied to a projection, and the age of the oldest of them (how
 * stale its views are: 0 when up to date).
 */
export const projectionLag = async (sql: Queryable, { name }: { name: string }): Promise<ProjectionLag> => {
  // Two statements, the checkpoint's values bound as parameters: PostgreSQL then plans the
  // count for the few events past it (an index range). Read inside one statement only, the
  // checkpoint is unknown to the planner, which guessed a third of the table and scanned all of
  // it every second of a load test. The count reads the checkpoint again, as of its own
  // snapshot, and leaves out the events applied since the first read (a filter, so the plan
  // stays that index range; `is not true` counts all when there is no checkpoint yet): between
  // the two statements this process's event loop may be busy for tens of milliseconds while
  // the projector (in a process of its own) goes on, and counting from the older checkpoint
  // overstated the lag by that wait.
  const checkpoint = await readCheckpoint(sql, name);
  const [row] = await sql<ProjectionLag[]>`
    select count(*)::int as events,
           coalesce(floor(extract(epoch from now() - min(recorded_at)) * 1000), 0)::int as milliseconds
    from events
    where ${after(sql, checkpoint)}
      and ((transaction_id, position) <= (
        select transaction_id, position from projection_checkpoints where name = ${name}
      )) is not true`;
  return row ?? { events: 0, milliseconds: 0 };
};
