import { bigint, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The latest snapshot of each stream: the state as of stream `version` (whose last event has
 * global `position`), in the shape `schemaVersion` names.
 */
export const snapshots = pgTable('snapshots', {
  streamId: text('stream_id').primaryKey(),
  version: integer('version').notNull(),
  position: bigint('position', { mode: 'number' }).notNull(),
  schemaVersion: integer('schema_version').notNull(),
  state: jsonb('state').notNull(),
  takenAt: timestamp('taken_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
