import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';

/** PostgreSQL's 64-bit transaction id; the projector uses it to never pass over a late commit. */
export const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' });

/**
 * One row per stream with its current version. Appends lock this row to check the expected
 * version before any event row (and so any global position) is created.
 */
export const streams = pgTable('streams', {
  streamId: text('stream_id').primaryKey(),
  version: integer('version').notNull(),
});

/**
 * The event log: append-only (a trigger in a custom migration refuses UPDATE, DELETE and
 * TRUNCATE), ordered globally by `position` and per stream by `stream_version` (1-based).
 */
export const events = pgTable(
  'events',
  {
    position: bigint('position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    streamId: text('stream_id').notNull(),
    streamVersion: integer('stream_version').notNull(),
    type: text('type').notNull(),
    /**
     * The version of the shape of `data` for its type: readers upcast older shapes to the current
     * one (see the domain's event-versions.ts). Every append states it; the default is for the rows
     * written before events had versions, which are version 1.
     */
    schemaVersion: smallint('schema_version').notNull().default(1),
    data: jsonb('data').notNull(),
    /** Request id, causation and the like; the recording time has its own column. */
    metadata: jsonb('metadata')
      .notNull()
      .default(sql`'{}'::jsonb`),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    transactionId: xid8('transaction_id')
      .notNull()
      .default(sql`pg_current_xact_id()`),
    /**
     * What the event is about within its stream (an entity's id), given by the appender, or null:
     * an append can require that some keys have no events yet, and a key's earlier events are
     * found by it (see read-keys.ts).
     */
    key: text('key'),
  },
  (table) => [
    // A stream's events in version order: loading, the listing, and point-in-time reads, which
    // need no index on recorded_at (see versionAt in read-stream.ts).
    unique('events_stream_version_unique').on(table.streamId, table.streamVersion),
    // The projector reads in (transaction id, position) order; see settledBatch in read-all.ts.
    index('events_transaction_position_idx').on(table.transactionId, table.position),
    // Not partial: a generic plan of a prepared `key = any($1)` cannot prove a partial index's
    // `is not null` and fell back to walking the whole stream.
    index('events_stream_key_idx').on(table.streamId, table.key),
  ],
);
