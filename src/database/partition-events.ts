import type { Queryable, Sql } from './connect.js';

/** How the `events` table is laid out: one plain table, or hash-partitioned by stream id. */
export type EventsLayout = { partitioned: false } | { partitioned: true; partitions: number };

/** The layout of `events` as the catalog says it is now. */
export const eventsLayout = async (sql: Queryable): Promise<EventsLayout> => {
  const [row] = await sql<{ partitioned: boolean; partitions: number }[]>`
    select c.relkind = 'p' as partitioned,
      (select count(*)::int from pg_inherits i where i.inhparent = c.oid) as partitions
    from pg_class c where c.oid = 'events'::regclass`;
  if (!row) throw new Error('there is no events table: apply the migrations first');
  return row.partitioned ? { partitioned: true, partitions: row.partitions } : { partitioned: false };
};

/** The name of one partition of `events`. */
export const partitionName = (remainder: number): string => `events_p${remainder}`;

/**
 * Converts a plain `events` table into one hash-partitioned by `stream_id` into `partitions`
 * partitions, after the drizzle migrations (which create and alter the plain table), keeping
 * every row with its position, the position sequence where it was, the triggers and the
 * indexes. Does nothing to a table already partitioned into that many; refuses one partitioned
 * into another number, as repartitioning is not done here. A stream lives in one partition, so
 * everything the store does within a stream (the version check, the key lookup, reading it)
 * touches one partition.
 *
 * The whole conversion is one transaction holding `events` exclusively: appends and reads wait
 * until it commits, and a failure leaves the plain table as it was. It rewrites every event, so
 * on a large store it is a planned stop, not something to switch on casually.
 */
export const partitionEvents = async (sql: Sql, partitions: number): Promise<'converted' | 'unchanged'> => {
  if (!Number.isInteger(partitions) || partitions < 2) throw new Error('events need at least 2 partitions');
  // Read without a lock first: every start of every process passes here, and an exclusive lock
  // taken only to find the table already partitioned would still stall appends behind it.
  if (isAlready(await eventsLayout(sql), partitions)) return 'unchanged';
  return sql.begin(async (tx) => {
    await tx`lock table events in access exclusive mode`;
    // Another process may have converted it while this one waited for the lock.
    if (isAlready(await eventsLayout(tx), partitions)) return 'unchanged';
    await tx.unsafe(conversion(partitions));
    // Statistics for the rows copied. Not for an empty table: analyzed empty, its partitions
    // would look empty to the planner until autovacuum came by, and a statement prepared
    // meanwhile (the append's key check) would settle on scanning them; never analyzed, the
    // planner assumes a few pages each, as it does for the plain table fresh from the migrations.
    const [copied] = await tx<{ any: boolean }[]>`select exists (select 1 from events) as any`;
    if (copied?.any) await tx`analyze events`;
    return 'converted';
  });
};

const isAlready = (layout: EventsLayout, partitions: number): boolean => {
  if (!layout.partitioned) return false;
  if (layout.partitions !== partitions) {
    throw new Error(
      `events is partitioned into ${layout.partitions} partitions, not ${partitions}: set EVENTS_PARTITIONS=${layout.partitions} (repartitioning is not supported)`,
    );
  }
  return true;
};

/**
 * The statements of the conversion. The columns come from the plain table itself (`like`), so
 * they are whatever the migrations made them; the constraints, indexes and triggers are the
 * drizzle schema's (schema.ts) and the custom migrations' (0001, 0003), named as they are there.
 * test/partitioned-events.test.ts checks that nothing of the plain table is left out.
 */
const conversion = (partitions: number): string => {
  const remainders = Array.from({ length: partitions }, (_, remainder) => remainder);
  return `
    create temp table events_position_state on commit drop as
      select last_value, is_called from events_position_seq;
    alter table events rename to events_unpartitioned;
    create table events (like events_unpartitioned
      including defaults including constraints including comments including storage including compression)
      partition by hash (stream_id);
    ${remainders
      .map(
        (remainder) => `create table ${partitionName(remainder)} partition of events
          for values with (modulus ${partitions}, remainder ${remainder});`,
      )
      .join('\n')}
    insert into events select * from events_unpartitioned;
    -- Drops the identity's sequence with it; the new identity takes its name and carries on from
    -- where it was (not from the largest position: rolled-back appends drew numbers too).
    drop table events_unpartitioned;
    alter table events alter column position add generated always as identity (sequence name events_position_seq);
    select setval('events_position_seq', last_value, is_called) from events_position_state;

    -- PostgreSQL enforces a unique constraint of a partitioned table in each partition's own
    -- index, so it requires the constraint to include the partition key: the primary key becomes
    -- (position, stream_id). Positions stay unique: only the one identity sequence gives them
    -- (GENERATED ALWAYS refuses a given position, and no code overrides it). With position as
    -- its first column the index still serves every lookup and range by position (readAll).
    -- (stream_id, stream_version) already includes the key and stays as it was: one stream's
    -- events are all in one partition, so its per-partition index makes it unique overall.
    alter table events
      add constraint events_pkey primary key (position, stream_id),
      add constraint events_stream_version_unique unique (stream_id, stream_version);
    create index events_transaction_position_idx on events (transaction_id, position);
    create index events_stream_key_idx on events (stream_id, key);

    -- The triggers of 0001. The row trigger is cloned to every partition. Statement triggers are
    -- not: the TRUNCATE guard is repeated on each partition, which can be truncated on its own.
    create trigger events_no_update_or_delete before update or delete on events
      for each row execute function events_are_append_only();
    create trigger events_no_truncate before truncate on events
      for each statement execute function events_are_append_only();
    ${remainders
      .map(
        (remainder) => `create trigger events_no_truncate before truncate on ${partitionName(remainder)}
          for each statement execute function events_are_append_only();`,
      )
      .join('\n')}`;
};
