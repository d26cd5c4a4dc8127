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
 * `readStream`'s `until`); 0 when there is none.
 *
 * A binary search over the stream's versions, each step one probe of the (stream_id,
 * stream_version) index: about 20 probes for a million events, wherever `asOf` falls. It needs no
 * index on recorded_at, which every append would pay for to serve these rare reads, because
 * recorded_at never decreases along a stream's versions: it is the time its append's transaction
 * began, and an append's expected version is known only after the append before it committed
 * (the events of one append share their time). That holds while the server's clock does not step
 * back. Walking the versions back from the latest would read every event newer than `asOf` (in a
 * 300,000-event stream, 84 ms for a point 270,000 events back; under a millisecond here, wherever
 * the point). `offset 0` keeps each probe a lookup of one version: flattened, it became a hash of
 * every event of the stream recorded by `asOf`.
 * `low` is always a version recorded by `asOf` (or 0), and every version above `high` was
 * recorded after it; the search ends when they meet.
 */
export const versionAt = async (sql: Queryable, streamId: string, asOf: Date): Promise<number> => {
  const [row] = await sql<{ version: number }[]>`
    with recursive search (low, high) as (
      select 0, coalesce((select version from streams where stream_id = ${streamId}), 0)
      union all
      select case when probe.recorded then middle else low end, case when probe.recorded then high else middle - 1 end
      from search
      cross join lateral (select (low + high + 1) / 2 as middle) split
      left join lateral (
        select true as recorded from events
        where stream_id = ${streamId} and stream_version = split.middle
          and recorded_at < ${asOf}::timestamptz + interval '1 millisecond'
        offset 0
      ) probe on true
      where low < high
    )
    select max(low) as version from search`;
  return row?.version ?? 0;
};

/** The stream's current version; 0 when it does not exist. */
export const streamVersion = async (sql: Queryable, streamId: string): Promise<number> => {
  const [row] = await sql<{ version: number }[]>`select version from streams where stream_id = ${streamId}`;
  return row?.version ?? 0;
};
