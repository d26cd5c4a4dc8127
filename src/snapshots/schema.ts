import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Snapshots of each stream: the state as of stream `version` (whose last event has global
 * `position` and was recorded at `recordedAt`), in the shape `schemaVersion` names. Every one is
 * kept (a state is a few counts): a command loads the latest, a point-in-time read the latest
 * at or before its time.
 */
export const snapshots = pgTable(
  'snapshots',
  {
    streamId: text('stream_id').notNull(),
    version: integer('version').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
    schemaVersion: integer('schema_version').notNull(),
    state: jsonb('state').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }),
    takenAt: timestamp('taken_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.streamId, table.version] }),
    // A point-in-time read finds the snapshots on either side of its time in one probe each.
    index('snapshots_recorded_at_idx').on(table.streamId, table.recordedAt),
  ],
);
