import type postgres from 'postgres';
import type { Sql } from '../../src/database/connect.js';
import {
  currentVersionOf,
  reservationIdOf,
  streamIdOf,
  type HoldConfirmedV1,
  type SeatAvailabilityEvent,
  type SeatsReservedV1,
} from '../../src/seat-availability/index.js';

/**
 * Events as the release before event versions wrote them: the data of each type's version 1, in
 * rows with no schema version of their own (migration 0013 reads them as version 1).
 */

/** The version-1 data of a SeatsReserved or HoldConfirmed: the same, naming no attendee. */
const withoutAttendee = <Data extends { attendee: unknown }>({ attendee: _, ...rest }: Data): Omit<Data, 'attendee'> =>
  rest;

/**
 * The data of an event as version 1 of its type had it: only SeatsReserved and HoldConfirmed
 * changed shape (they named no attendee). A type at another version than this benchmark knows
 * fails, so a new version cannot go unmeasured by writing its current shape as version 1.
 */
export const version1Data = (event: SeatAvailabilityEvent): unknown => {
  switch (event.type) {
    case 'SeatsReserved':
      if (currentVersionOf(event.type) !== 2) break;
      return withoutAttendee(event.data) satisfies SeatsReservedV1;
    case 'HoldConfirmed':
      if (currentVersionOf(event.type) !== 2) break;
      return withoutAttendee(event.data) satisfies HoldConfirmedV1;
    default:
      if (currentVersionOf(event.type) !== 1) break;
      return event.data;
  }
  throw new Error(
    `${event.type} is at version ${currentVersionOf(event.type)}: teach version1Data how version 1 of it was written`,
  );
};

/** Whether reading `event` back from version 1 runs an upcaster: its type has a newer version. */
export const upcastFromVersion1 = (event: SeatAvailabilityEvent): boolean => currentVersionOf(event.type) > 1;

/**
 * Writes events as the first events of a conference's stream, as the release before event
 * versions did, `perInsert` in one transaction each: raw SQL inserts naming no schema_version
 * (its default, 1, is what migration 0013 gave the rows already there), the stream's row moved
 * to its new version in the same transaction, as an append does.
 */
export const insertAsOlderRelease = async (
  sql: Sql,
  conferenceId: string,
  events: SeatAvailabilityEvent[],
  perInsert = 5000,
): Promise<void> => {
  const streamId = streamIdOf(conferenceId);
  for (let offset = 0; offset < events.length; offset += perInsert) {
    const rows = events.slice(offset, offset + perInsert).map((event, i) => ({
      version: offset + i + 1,
      type: event.type,
      data: version1Data(event),
      key: reservationIdOf(event) ?? null,
    }));
    const version = offset + rows.length;
    await sql.begin(async (tx) => {
      await tx`
        insert into streams (stream_id, version) values (${streamId}, ${version})
        on conflict (stream_id) do update set version = excluded.version`;
      await tx`
        insert into events (stream_id, stream_version, type, data, key)
        select ${streamId}, r.version, r.type, r.data, r.key
        from jsonb_to_recordset(${tx.json(rows as postgres.JSONValue)}) as r(version int, type text, data jsonb, key text)
        order by r.version`;
    });
  }
};
