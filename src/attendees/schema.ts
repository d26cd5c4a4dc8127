import { customType, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/**
 * One key per attendee, the only way to read their personal fields in the events (which are
 * never rewritten): forgetting the attendee deletes the key, and keeps the row as the record that
 * they were forgotten and when. A table of its own, so that deleting a key is an ordinary DELETE
 * of key material that no event, view or snapshot holds a copy of.
 */
export const attendeeKeys = pgTable('attendee_keys', {
  attendeeId: text('attendee_id').primaryKey(),
  /** 32 random bytes (AES-256-GCM); null once the attendee is forgotten. */
  key: bytea('key'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  forgottenAt: timestamp('forgotten_at', { withTimezone: true, mode: 'date' }),
});
