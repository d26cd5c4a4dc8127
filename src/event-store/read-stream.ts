import type { Queryable } from '../database/connect.js';
import { RECORDED_EVENT_COLUMNS, type RecordedEvent } from './recorded-event.js';

/** The statements that read one stream by its id. */

/**
 * The events of one stream after `afterVersion`, oldest first; optionally only those recorded
 * up to `until`, which names a millisecond (a JavaScript Date): an event recorded within it
 * counts, although PostgreSQL keeps microseconds, so the recordedAt an event is shown with
 * includes that event.
 */
export const readStream = async (
  sql: Queryable,
  streamId: string,
  options: { afterVersion?: number; upToVersion?: number | undefined; until?: Date } = {},
): Promise<RecordedEvent[]> => {
  const { afterVersion = 0, upToVersion, until } = options;
  return sql<RecordedEvent[]>`
    select ${sql.unsafe(RECORDED_EVENT_COLUMNS)} from events
    where stream_id = ${streamId} and stream_version > ${afterVersion}
      ${upToVersion === undefined ? sql`` : sql`and stream_version <= ${upToVersion}`}
      ${until ? sql`and recorded_at < ${until}::timestamptz + interval '1 millisecond'` : sql``}
    order by stream_version`;
};

/** A page of one stream's events after global position `afterPosition`, oldest first. */
export const readStreamPage = async (
  sql: Queryable,
  streamId: string,
  afterPosition: number,
  limit: number,
): Promise<RecordedEvent[]> => sql<RecordedEvent[]>`
  select ${sql.unsafe(RECORDED_EVENT_COLUMNS)} from events
  where stream_id = ${streamId} and position > ${afterPosition}
  order by stream_version
  limit ${limit}`;

/**
 * The version of the stream's latest event recorded by `asOf` (to the millisecond, as
 * `readStream`'s `until`); 0 when there is none. One probe of (stream_id, recorded_at).
 */
export const versionAt = async (sql: Queryable, streamId: string, asOf: Date): Promise<number> => {
  const [row] = await sql<{ version: number }[]>`
    select stream_version as version from events
    where stream_id = ${streamId} and recorded_at < ${asOf}::timestamptz + interval '1 millisecond'
    order by recorded_at desc, stream_version desc limit 1`;
  return row?.version ?? 0;
};

/** The stream's current version; 0 when it does not exist. */
export const streamVersion = async (sql: Queryable, streamId: string): Promise<number> => {
  const [row] = await sql<{ version: number }[]>`select version from streams where stream_id = ${streamId}`;
  return row?.version ?? 0;
};
