import type { Queryable } from '../database/connect.js';
import type { RecordedEvent } from './recorded-event.js';

/**
 * The events of some reservations of one stream (`$stream`, `$ids` are the statement's parameter
 * names), one probe of the (stream_id, reservation_id) index per id, whatever the statistics
 * say. Written as `reservation_id = any(...)` the planner estimated 64 ids as a third of the
 * table, and with the stream's rows underestimated (a fresh table, or a conference that turned
 * hot since the last ANALYZE) it walked the whole stream through its version index and filtered:
 * 13 ms growing to 98 ms within 40 s of a surge. Per id, both equalities make that index cheaper
 * than any other plan under any estimate; `offset 0` keeps the per-id subquery a nested loop.
 * `readReservations` is sent unprepared (`unsafe`), so it is planned for the table as it is now,
 * not once while it was small; `appendStreams` is prepared, as its streams and ids come inside
 * one JSON document that no plan can depend on. Neither has an ORDER BY: the few rows found are
 * sorted in JavaScript.
 */
export const reservationEvents = (stream: string, ids: string, condition = '') => `
  select found.* from unnest(${ids}::text[]) as wanted(reservation_id)
  cross join lateral (
    select position, stream_id as "streamId", stream_version as "streamVersion", type, data, metadata,
      recorded_at as "recordedAt"
    from events
    where events.stream_id = ${stream} and events.reservation_id = wanted.reservation_id ${condition}
    offset 0
  ) found`;

/**
 * The events of the given reservations in one stream (through the `reservation_id` index),
 * oldest first, with the stream's current version read by the same statement: the events
 * are exactly those of the stream at that version. `upToVersion` leaves out later events.
 */
export const readReservations = async (
  sql: Queryable,
  streamId: string,
  reservationIds: string[],
  upToVersion?: number,
): Promise<{ version: number; events: RecordedEvent[] }> => {
  const rows = await sql.unsafe<({ currentVersion: number } & Partial<RecordedEvent>)[]>(
    `select s.version as "currentVersion", e.* from streams s
    left join lateral (${reservationEvents('$1', '$2', 'and stream_version <= $3')}) e on true
    where s.stream_id = $1`,
    [streamId, reservationIds, upToVersion ?? 2_147_483_647],
  );
  const version = rows[0]?.currentVersion ?? 0;
  const events = rows
    .filter((row): row is { currentVersion: number } & RecordedEvent => row.position != null)
    .map(({ currentVersion: _, ...event }) => event)
    .sort((a, b) => a.streamVersion - b.streamVersion);
  return { version, events };
};
