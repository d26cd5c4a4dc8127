import { randomUUID } from 'node:crypto';
import type { Queryable, Sql } from '../database/connect.js';
import { newAttendeeKey } from './personal-data.js';

/** What is known of an attendee's key: the key, or that the attendee was forgotten (and when). */
export type AttendeeKey = { key: Buffer } | { forgottenAt: Date };

/** An attendee id with its key, stored, that no event names yet. */
export type IssuedKey = { attendeeId: string; key: Buffer };

/** How many keys are stored ahead of need, per process. */
export const KEYS_AHEAD = 256;

/**
 * The attendee keys in PostgreSQL (table attendee_keys). Keys are stored ahead of need, a few
 * hundred in one statement, so naming an attendee costs no round trip of its own: in a surge a
 * key per reservation, written and committed alone, cost a third of the throughput. A key taken
 * for a command that appended nothing goes back to be taken again: no event names it, so no one
 * else's data was ever sealed with it. Keys stored and never taken (a process that stopped) name
 * no one and open nothing.
 *
 * The batch is committed with `synchronous_commit = off`, so it waits for no disk flush. That is
 * safe: a key is handed out only after its insert committed, so its commit record precedes in the
 * write-ahead log that of any event sealed with it, and an event's (synchronous) commit flushes
 * the log up to itself: no event outlives a crash without its key.
 */
export const createAttendeeKeys = (sql: Sql, { ahead = KEYS_AHEAD }: { ahead?: number } = {}) => {
  const ready: IssuedKey[] = [];
  let storing: Promise<void> | undefined;
  const storeAhead = () =>
    (storing ??= (async () => {
      const fresh = Array.from({ length: ahead }, () => ({ attendeeId: randomUUID(), key: newAttendeeKey() }));
      await sql.begin(async (tx) => {
        await tx`set local synchronous_commit = off`;
        await insertKeys(tx, fresh);
      });
      ready.push(...fresh);
    })().finally(() => {
      storing = undefined;
    }));
  return {
    /** An attendee id with a key of its own, stored and committed. */
    issue: async (): Promise<IssuedKey> => {
      while (ready.length === 0) await storeAhead();
      const issued = ready.pop()!;
      // Refill before the last ones go; a failure shows at the next issue that finds none left.
      if (ready.length < ahead / 4) storeAhead().catch(() => {});
      return issued;
    },

    /** A key no event names after all (its command appended nothing): the next attendee takes it. */
    giveBack: (issued: IssuedKey): void => {
      ready.push(issued);
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
  };
};

const insertKeys = async (sql: Queryable, keys: IssuedKey[]) => {
  await sql`
    insert into attendee_keys (attendee_id, key)
    select id, decode(key, 'base64')
    from unnest(${keys.map((k) => k.attendeeId)}::text[], ${keys.map((k) => k.key.toString('base64'))}::text[])
      as issued(id, key)`;
};

export type AttendeeKeys = ReturnType<typeof createAttendeeKeys>;
