import type postgres from 'postgres';
import type { Queryable } from '../database/connect.js';
import type { Checkpoint } from '../projections/checkpoint.js';
import { ReservationsExistError } from './reservations-exist-error.js';
import { VersionConflictError } from './version-conflict-error.js';

/** An event to append: its type, its data, and metadata such as the request id. */
export type NewEvent = { type: string; data: unknown; metadata?: Record<string, unknown> };

/** An event as stored, with its global position and its version within its stream. */
export type RecordedEvent = {
  position: number;
  streamId: string;
  streamVersion: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: Date;
};

/** An event with the id of the transaction that wrote it (xid8, as text). */
export type SettledEvent = RecordedEvent & { transactionId: string };

export type AppendResult = { version: number; position: number };

/** One stream's part of a multi-stream append (`appendStreams`). */
export type StreamAppend = {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
  /** Reservation ids the events name that must have no event in the stream yet. */
  newReservationIds: string[];
};

/** What one stream's part of a multi-stream append did: appended, or why it appended nothing. */
export type StreamAppendOutcome = AppendResult | VersionConflictError | ReservationsExistError;

/** A recorded event as `jsonb_agg` returns it: the time is text. */
type FoundEvent = Omit<RecordedEvent, 'recordedAt'> & { recordedAt: string };

export type EventStore = ReturnType<typeof createEventStore>;

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
const reservationEvents = (stream: string, ids: string, condition = '') => `
  select found.* from unnest(${ids}::text[]) as wanted(reservation_id)
  cross join lateral (
    select position, stream_id as "streamId", stream_version as "streamVersion", type, data, metadata,
      recorded_at as "recordedAt"
    from events
    where events.stream_id = ${stream} and events.reservation_id = wanted.reservation_id ${condition}
    offset 0
  ) found`;

/** An event's metadata in the append statements: none given is stored as `{}`. */
const METADATA = `coalesce(e.event->'metadata', '{}'::jsonb)`;

/** The PostgreSQL event store. Every statement is written out here, so its locking is visible. */
export const createEventStore = (sql: Queryable) => {
  const recordedEventColumns = sql`position, stream_id as "streamId", stream_version as "streamVersion", type, data,
    metadata, recorded_at as "recordedAt"`;
  /**
   * Appends all the events or none. Fails with `VersionConflictError` when the stream is not
   * at `expectedVersion` (0 = the stream must not exist yet).
   *
   * One statement does it all. Its first step claims the stream row (insert for a new stream,
   * conditional update otherwise); a concurrent append to the same stream waits on that row and
   * then finds the version moved, so it claims nothing. Only after the claim are event rows
   * inserted and positions drawn from the sequence, so conflict losers leave no gaps in the
   * global positions.
   */
  const append = async (streamId: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult> => {
    if (events.length === 0) throw new Error('append needs at least one event');
    const newVersion = expectedVersion + events.length;
    const claim =
      expectedVersion === 0
        ? sql`insert into streams (stream_id, version) values (${streamId}, ${newVersion})
            on conflict (stream_id) do nothing returning stream_id`
        : sql`update streams set version = ${newVersion}
            where stream_id = ${streamId} and version = ${expectedVersion} returning stream_id`;
    const rows = await sql<{ position: number }[]>`
    with claimed as (${claim})
    insert into events (stream_id, stream_version, type, data, metadata)
    select claimed.stream_id, ${expectedVersion} + e.ordinality, e.event->>'type', e.event->'data', ${sql.unsafe(METADATA)}
    from claimed, jsonb_array_elements(${sql.json(events as postgres.JSONValue)}) with ordinality as e(event, ordinality)
    order by e.ordinality
    returning position`;
    const last = rows.at(-1);
    if (!last) throw new VersionConflictError(streamId, expectedVersion);
    return { version: newVersion, position: last.position };
  };

  return {
    append,

    /**
     * Appends to many streams in ONE statement and one transaction: group commit across
     * conferences. Each stream keeps its own conditions, met or not on its own: it must be at its
     * `expectedVersion` (0 = must not exist yet), and none of its `newReservationIds` may have an
     * event in it yet. The outcome of each, in the order given, is what it appended, or the reason
     * it appended nothing as a value: `VersionConflictError` when the stream had moved,
     * `ReservationsExistError` (with those reservations' events) when it had not but some ids have
     * events. A stream that fails never fails or delays the others.
     *
     * How the statement keeps the guarantees of `append`:
     * - The rows of the streams are locked first, in stream id order (`for update` applies after
     *   `order by`), so two statements carrying the same streams in another process wait for each
     *   other instead of deadlocking; the versions read there are the current ones. They are found
     *   by key (`= any (array(...))`): written `in (select ...)`, the planner hashed the input and
     *   scanned every stream, a cost that grew with the number of conferences.
     * - Only streams whose claim succeeded (version matched and no id assumed new was found, or a
     *   new stream's row was inserted) get event rows, so losers draw no positions: no gaps.
     * - Each id assumed new is one probe of the (stream_id, reservation_id) index per stream (see
     *   `reservationEvents`). The statement is prepared: its only parameter is a JSON document, so
     *   its plan never depends on the streams or ids it carries.
     */
    async appendStreams(appends: StreamAppend[]): Promise<StreamAppendOutcome[]> {
      if (appends.some(({ events }) => events.length === 0)) throw new Error('append needs at least one event');
      const input = appends.map(({ streamId, expectedVersion, events, newReservationIds }) => ({
        stream_id: streamId,
        expected_version: expectedVersion,
        events,
        reservation_ids: expectedVersion === 0 ? [] : newReservationIds,
      }));
      const rows = await sql<
        { streamId: string; position: number | null; currentVersion: number | null; found: FoundEvent[] }[]
      >`
        with input as (
          select * from jsonb_to_recordset(${sql.json(input as postgres.JSONValue)})
            as i(stream_id text, expected_version int, events jsonb, reservation_ids text[])
        ), found as (
          select input.stream_id as wanted_stream, f.* from input cross join lateral (${sql.unsafe(
            reservationEvents('input.stream_id', 'input.reservation_ids'),
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
          insert into events (stream_id, stream_version, type, data, metadata)
          select i.stream_id, i.expected_version + e.ordinality, e.event->>'type', e.event->'data', ${sql.unsafe(METADATA)}
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
      const byStream = new Map(rows.map((row) => [row.streamId, row]));
      return appends.map(({ streamId, expectedVersion, events }) => {
        const row = byStream.get(streamId);
        if (row?.position != null) return { version: expectedVersion + events.length, position: row.position };
        if (row?.currentVersion === expectedVersion && row.found.length > 0) {
          const found = row.found
            .map((event) => ({ ...event, recordedAt: new Date(event.recordedAt) }))
            .sort((a, b) => a.streamVersion - b.streamVersion);
          return new ReservationsExistError(streamId, found);
        }
        return new VersionConflictError(streamId, expectedVersion);
      });
    },

    /**
     * The events of one stream after `afterVersion`, oldest first; optionally only those recorded
     * up to `until`, which names a millisecond (a JavaScript Date): an event recorded within it
     * counts, although PostgreSQL keeps microseconds, so the recordedAt an event is shown with
     * includes that event.
     */
    async readStream(
      streamId: string,
      options: { afterVersion?: number; upToVersion?: number | undefined; until?: Date } = {},
    ): Promise<RecordedEvent[]> {
      const { afterVersion = 0, upToVersion, until } = options;
      return sql<RecordedEvent[]>`
      select ${recordedEventColumns} from events
      where stream_id = ${streamId} and stream_version > ${afterVersion}
        ${upToVersion === undefined ? sql`` : sql`and stream_version <= ${upToVersion}`}
        ${until ? sql`and recorded_at < ${until}::timestamptz + interval '1 millisecond'` : sql``}
      order by stream_version`;
    },

    /** A page of one stream's events after global position `afterPosition`, oldest first. */
    async readStreamPage(streamId: string, afterPosition: number, limit: number): Promise<RecordedEvent[]> {
      return sql<RecordedEvent[]>`
      select ${recordedEventColumns} from events
      where stream_id = ${streamId} and position > ${afterPosition}
      order by stream_version
      limit ${limit}`;
    },

    /** Events of every stream after global position `afterPosition`, in position order. */
    async readAll(afterPosition: number, limit: number): Promise<RecordedEvent[]> {
      return sql<RecordedEvent[]>`
      select ${recordedEventColumns} from events
      where position > ${afterPosition}
      order by position
      limit ${limit}`;
    },

    /**
     * Events after `after` in (transaction id, position) order, only from transactions that have
     * ended: the safe way for a projector to never pass over an event that commits late.
     *
     * Why this is correct: a position is drawn from a sequence, so a transaction can commit an
     * event with a LOWER position after another has committed a higher one; a reader that goes
     * by `position > checkpoint` skips the late one forever. Instead we read only events whose
     * transaction id is below `pg_snapshot_xmin(pg_current_snapshot())`. Every transaction below
     * that horizon has ended, and every transaction that has not yet written gets a larger id, so
     * the set of events below the horizon never grows behind the reader. Reading that set in
     * (transaction id, position) order and checkpointing the pair therefore never skips an
     * event. Within one stream this order is the version order: an append waits for the
     * stream-row lock held by the previous append, whose transaction id is therefore smaller.
     * The price: a long-running transaction anywhere holds the horizon back and delays readers.
     * `upTo` bounds the read (inclusive), for catching up to another reader's checkpoint.
     */
    async readSettled(after: Checkpoint, limit: number, upTo?: Checkpoint): Promise<SettledEvent[]> {
      return sql<SettledEvent[]>`
        select ${recordedEventColumns}, transaction_id::text as "transactionId" from events
        where (transaction_id, position) > (${after.transactionId}::xid8, ${after.position})
          and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ${upTo ? sql`and (transaction_id, position) <= (${upTo.transactionId}::xid8, ${upTo.position})` : sql``}
        order by transaction_id, position
        limit ${limit}`;
    },

    /**
     * The bounds of the batch `readSettled` would return, without its events: the last
     * (transaction id, position), how many events, and their streams. For a projection that
     * applies the range inside PostgreSQL; the same reading order and horizon, so the same
     * guarantee that no late commit is passed over.
     */
    async settledBatch(
      after: Checkpoint,
      limit: number,
      upTo?: Checkpoint,
    ): Promise<{ last: Checkpoint; count: number; streamIds: string[] } | undefined> {
      const [row] = await sql<
        { transactionId: string | null; position: number | null; count: number; streamIds: string[] }[]
      >`
        with batch as (
          select transaction_id, position, stream_id from events
          where (transaction_id, position) > (${after.transactionId}::xid8, ${after.position})
            and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            ${upTo ? sql`and (transaction_id, position) <= (${upTo.transactionId}::xid8, ${upTo.position})` : sql``}
          order by transaction_id, position
          limit ${limit}
        ), last as (select transaction_id, position from batch order by transaction_id desc, position desc limit 1)
        select (select transaction_id::text from last) as "transactionId", (select position from last) as position,
          (select count(*)::int from batch) as count,
          (select coalesce(array_agg(distinct stream_id), '{}') from batch) as "streamIds"`;
      if (!row || row.transactionId === null || row.position === null) return undefined;
      return {
        last: { transactionId: row.transactionId, position: row.position },
        count: row.count,
        streamIds: row.streamIds,
      };
    },

    /**
     * The events of the given reservations in one stream (through the `reservation_id` index),
     * oldest first, with the stream's current version read by the same statement: the events
     * are exactly those of the stream at that version. `upToVersion` leaves out later events.
     */
    async readReservations(
      streamId: string,
      reservationIds: string[],
      upToVersion?: number,
    ): Promise<{ version: number; events: RecordedEvent[] }> {
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
    },

    /**
     * The version of the stream's latest event recorded by `asOf` (to the millisecond, as
     * `readStream`'s `until`); 0 when there is none. One probe of (stream_id, recorded_at).
     */
    async versionAt(streamId: string, asOf: Date): Promise<number> {
      const [row] = await sql<{ version: number }[]>`
        select stream_version as version from events
        where stream_id = ${streamId} and recorded_at < ${asOf}::timestamptz + interval '1 millisecond'
        order by recorded_at desc, stream_version desc limit 1`;
      return row?.version ?? 0;
    },

    /** The stream's current version; 0 when it does not exist. */
    async streamVersion(streamId: string): Promise<number> {
      const [row] = await sql<{ version: number }[]>`select version from streams where stream_id = ${streamId}`;
      return row?.version ?? 0;
    },
  };
};
