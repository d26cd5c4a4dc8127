import type { Queryable } from '../database/connect.js';
import { RECORDED_EVENT_COLUMNS, type RecordedEvent } from './recorded-event.js';

/**
 * The events of some keys of one stream (`stream`, `keys` are SQL expressions: the statement's
 * parameters or the columns of its input), one probe of the (stream_id, key) index per key,
 * whatever the statistics say. Written as `key = any(...)` the planner estimated 64 keys as a
 * third of the table, and with the stream's rows underestimated (a fresh table, or a stream
 * that turned hot since the last ANALYZE) it walked the whole stream through its version index
 * and filtered: 13 ms growing to 98 ms within 40 s of a surge. Per key, both equalities make
 * that index cheaper than any other plan under any estimate; `offset 0` keeps the per-key
 * subquery a nested loop. `readByKeys` is sent unprepared (`unsafe`), so it is planned for the
 * table as it is now, not once while it was small; `appendStreams` is prepared, as its streams
 * and keys come inside one JSON document that no plan can depend on. Neither has an ORDER BY:
 * the few rows found are sorted in JavaScript.
 */
export const keyEvents = (stream: string, keys: string, condition = '') => `
  select found.* from unnest(${keys}::text[]) as wanted(key)
  cross join lateral (
    select ${RECORDED_EVENT_COLUMNS}
    from events
    where events.stream_id = ${stream} and events.key = wanted.key ${condition}
    offset 0
  ) found`;

/**
 * The events of the given keys in one stream (through the (stream_id, key) index), oldest
 * first, with the stream's current version read by the same statement: the events are exactly
 * those of the stream at that version. `upToVersion` leaves out later events.
 */
export const readByKeys = async (
  sql: Queryable,
  streamId: string,
  keys: string[],
  upToVersion?: number,
): Promise<{ version: number; events: RecordedEvent[] }> => {
  const rows = await sql.unsafe<({ currentVersion: number } & Partial<RecordedEvent>)[]>(
    `select s.version as "currentVersion", e.* from streams s
    left join lateral (${keyEvents('$1', '$2', 'and stream_version <= $3')}) e on true
    where s.stream_id = $1`,
    [streamId, keys, upToVersion ?? 2_147_483_647],
  );
  const version = rows[0]?.currentVersion ?? 0;
  const events = rows
    .filter((row): row is { currentVersion: number } & RecordedEvent => row.position != null)
    .map(({ currentVersion: _, ...event }) => event)
    .sort((a, b) => a.streamVersion - b.streamVersion);
  return { version, events };
};
