import { bigint, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Snapshots of each stream: the state as of stream `version` (whose last event has global
 * `position`), in the shape `schemaVersion` names. Every one is kept unless SNAPSHOT_KEEP says
 * otherwise (see keptSnapshots): a command loads the latest, a point-in-time read the latest at or
 * before the version its time names. Both are one probe of the primary key.
 */
export const snapshots = pgTable(
  'snapshots',
  {
    streamId: text('stream_id').notNull(),
    version: integer('version').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
    schemaVersion: integer('schema_version').notNull(),
    state: jsonb('state').notNull(),
    takenAt: timestamp('taken_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.streamId, table.version] })],
);
