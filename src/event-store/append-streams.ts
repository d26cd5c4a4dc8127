import type postgres from 'postgres';
import type { Queryable } from '../database/connect.js';
import type { RecordedEvent } from './recorded-event.js';
import { KeysExistError } from './keys-exist-error.js';
import { keyEvents } from './read-keys.js';
import { VersionConflictError } from './version-conflict-error.js';

/**
 * An event to append: its type, the version of its data's shape for that type (1 unless given:
 * the store only keeps the number, readers upcast older shapes), its data, metadata such as the
 * request id, and the key it is about within its stream (an entity's id, extracted by the
 * appender), if any.
 */
export type NewEvent = {
  type: string;
  schemaVersion?: number;
  data: unknown;
  metadata?: Record<string, unknown>;
  key?: string | undefined;
};

export type AppendResult = { version: number; position: number };

/** One stream's part of a multi-stream append (`appendStreams`). */
export type StreamAppend = {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
  /** Keys that must have no event in the stream yet (a precondition, like the expected version). */
  newKeys: string[];
};

/** What one stream's part of a multi-stream append did: appended, or why it appended nothing. */
export type StreamAppendOutcome = AppendResult | VersionConflictError | KeysExistError;

/** A recorded event as `jsonb_agg` returns it: the time is text. */
type FoundEvent = Omit<RecordedEvent, 'recordedAt'> & { recordedAt: string };

/** What the statement says of one stream: its last position if it appended, else its version and the keys' events. */
type StreamRow = { streamId: string; position: number | null; currentVersion: number | null; found: FoundEvent[] };

/**
 * Appends to many streams in ONE statement and one transaction, all of a stream's events or
 * none: the one append statement, whether it carries one stream (`append`, the direct path) or
 * the batches of many conferences (group commit). Each stream keeps its own conditions, met or
 * not on its own: it must be at its `expectedVersion` (0 = must not exist yet), and none of its
 * `newKeys` may have an event in it yet. The outcome of each, in the order given, is what it
 * appended, or the reason it appended nothing as a value: `VersionConflictError` when the stream
 * had moved, `KeysExistError` (with those keys' events) when it had not but some of the keys
 * have events. A stream that fails never fails or delays the others.
 *
 * How the statement keeps these guarantees:
 * - The rows of the streams are locked first, in stream id order (`for update` applies after
 *   `order by`), so two statements carrying the same streams in another process wait for each
 *   other instead of deadlocking; the versions read there are the current ones. They are found
 *   by primary key (`= any (array(...))`): written `in (select ...)`, the planner hashed the
 *   input and scanned every stream, a cost that grew with the number of conferences.
 * - A concurrent append to the same stream waits on its row, then finds the version moved.
 * - Only streams whose claim succeeded (version matched and no key required new was found, or a
 *   new stream's row was inserted) get event rows, so losers draw no positions: no gaps.
 * - Each key required new is one probe of the (stream_id, key) index per stream (see
 *   `keyEvents`). The statement is prepared: its only parameter is a JSON document, so its plan
 *   never depends on the streams or keys it carries.
 */
export const appendStreams = async (sql: Queryable, appends: StreamAppend[]): Promise<StreamAppendOutcome[]> => {
  if (appends.some(({ events }) => events.length === 0)) throw new Error('append needs at least one event');
  const input = appends.map(({ streamId, expectedVersion, events, newKeys }) => ({
    stream_id: streamId,
    expected_version: expectedVersion,
    events,
    new_keys: expectedVersion === 0 ? [] : newKeys,
  }));
  const rows = await appendStatement(sql, input as postgres.JSONValue);
  const byStream = new Map(rows.map((row) => [row.streamId, row]));
  return appends.map((append) => outcomeOf(append, byStream.get(append.streamId)));
};

/** The statement of `appendStreams`, on the appends as a JSON document of its columns. */
const appendStatement = (sql: Queryable, input: postgres.JSONValue) => sql<StreamRow[]>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(input)})
        as i(stream_id text, expected_version int, events jsonb, new_keys text[])
    ), found as (
      select input.stream_id as wanted_stream, f.* from input cross join lateral (${sql.unsafe(
        keyEvents('input.stream_id', 'input.new_keys'),
      )}) f
    ), locked as (
      select stream_id, version from streams
      where stream_id = any (array(select stream_id from input where expected_version > 0))
      order by stream_id
      for update
    ), updated as (
      update streams s set version = i.expected_version + jsonb_array_length(i.events)
      from input i join locked l using (stream_id)
      where s.stream_id = i.stream_id and l.version = i.expected_version
        and not exists (select 1 from found where found.wanted_stream = i.stream_id)
      returning s.stream_id
    ), created as (
      insert into streams (stream_id, version)
      select stream_id, jsonb_array_length(events) from input where expected_version = 0
      order by stream_id
      on conflict (stream_id) do nothing
      returning stream_id
    ), claimed as (
      select stream_id from updated union all select stream_id from created
    ), inserted as (
      insert into events (stream_id, stream_version, type, schema_version, data, metadata, key)
      select i.stream_id, i.expected_version + e.ordinality, e.event->>'type', coalesce((e.event->>'schemaVersion')::smallint, 1),
        e.event->'data',
        coalesce(e.event->'metadata', '{}'::jsonb), e.event->>'key'
      from input i join claimed using (stream_id), jsonb_array_elements(i.events) with ordinality as e(event, ordinality)
      order by i.stream_id, e.ordinality
      returning stream_id, position
    )
    select i.stream_id as "streamId",
      (select max(position) from inserted where inserted.stream_id = i.stream_id) as position,
      (select version from locked where locked.stream_id = i.stream_id) as "currentVersion",
      (select coalesce(jsonb_agg(to_jsonb(found) - 'wanted_stream'), '[]'::jsonb) from found
        where found.wanted_stream = i.stream_id) as found
    from input i`;

/** What a stream's part did: appended; or not, because of the keys (at the expected version) or the version. */
const outcomeOf = (
  { streamId, expectedVersion, events }: StreamAppend,
  row: StreamRow | undefined,
): StreamAppendOutcome => {
  if (row?.position != null) return { version: expectedVersion + events.length, position: row.position };
  if (row?.currentVersion === expectedVersion && row.found.length > 0) {
    const found = row.found
      .map((event) => ({ ...event, recordedAt: new Date(event.recordedAt) }))
      .sort((a, b) => a.streamVersion - b.streamVersion);
    return new KeysExistError(streamId, found);
  }
  return new VersionConflictError(streamId, expectedVersion);
};

/**
 * Appends one stream's events, all or none, with the same statement. Throws
 * `VersionConflictError` (or `KeysExistError`) instead of returning it.
 */
export const append = async (sql: Queryable, append: StreamAppend): Promise<AppendResult> => {
  const [outcome] = await appendStreams(sql, [append]);
  if (outcome === undefined) throw new Error('no outcome for an append');
  if (outcome instanceof Error) throw outcome;
  return outcome;
};
