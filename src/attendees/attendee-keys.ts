import { randomUUID } from 'node:crypto';
import type { Queryable } from '../database/connect.js';
import { groupedWrites } from './grouped-writes.js';
import { newAttendeeKey } from './personal-data.js';

/** What is known of an attendee's key: the key, or that the attendee was forgotten (and when). */
export type AttendeeKey = { key: Buffer } | { forgottenAt: Date };

/**
 * The attendee keys in PostgreSQL (table attendee_keys). A key is issued, and committed, before
 * the event that carries what it seals is appended, so every stored attendee has a key until
 * forgotten. Issued keys are inserted in groups (a surge names thousands of attendees a second).
 */
export const createAttendeeKeys = (sql: Queryable) => {
  const insert = groupedWrites<{ attendeeId: string; key: Buffer }>(async (rows) => {
    await sql`
      insert into attendee_keys (attendee_id, key)
      select id, decode(key, 'base64')
      from unnest(${rows.map((row) => row.attendeeId)}::text[], ${rows.map((row) => row.key.toString('base64'))}::text[])
        as issued(id, key)`;
  });
  return {
    /** A new attendee id with a key of its own, stored. */
    issue: async (): Promise<{ attendeeId: string; key: Buffer }> => {
      const issued = { attendeeId: randomUUID(), key: newAttendeeKey() };
      await insert(issued);
      return issued;
    },

    /** The keys of these attendees; an id with no row at all is left out. */
    keysOf: async (attendeeIds: string[]): Promise<Map<string, AttendeeKey>> => {
      if (attendeeIds.length === 0) return new Map();
      const rows = await sql<{ attendeeId: string; key: Buffer | null; forgottenAt: Date | null }[]>`
        select attendee_id as "attendeeId", key, forgotten_at as "forgottenAt" from attendee_keys
        where attendee_id = any(${[...new Set(attendeeIds)]}::text[])`;
      return new Map(
        rows.map(({ attendeeId, key, forgottenAt }) => [attendeeId, key ? { key } : { forgottenAt: forgottenAt! }]),
      );
    },

    /**
     * Deletes the attendee's key: from then on their personal fields read as forgotten wherever
     * they are stored. Keeps when it happened; a second call changes nothing. Undefined for an
     * attendee with no key.
     */
    forget: async (attendeeId: string): Promise<Date | undefined> => {
      const [row] = await sql<{ forgottenAt: Date }[]>`
        update attendee_keys set key = null, forgotten_at = coalesce(forgotten_at, now())
        where attendee_id = ${attendeeId}
        returning forgotten_at as "forgottenAt"`;
      return row?.forgottenAt;
    },

    /** Deletes keys that no event will use: issued for a command that appended nothing. */
    discard: async (attendeeIds: string[]): Promise<void> => {
      await sql`delete from attendee_keys where attendee_id = any(${attendeeIds}::text[])`;
    },
  };
};

export type AttendeeKeys = ReturnType<typeof createAttendeeKeys>;
