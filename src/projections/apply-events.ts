import type postgres from 'postgres';
import type { Queryable } from '../database/connect.js';
import type { RecordedEvent } from '../event-store/event-store.js';
import { viewChanges } from './view-changes.js';

/** The tables one set of views lives in: the live ones, or fresh ones during a rebuild. */
export type ViewTables = { conferences: string; seats: string; reservations: string };

export const LIVE_VIEWS: ViewTables = {
  conferences: 'conference_list',
  seats: 'seat_availability_view',
  reservations: 'reservations_view',
};

/** The stored (not generated) columns of each view, for copying a rebuilt view into the live one. */
export const VIEW_COLUMNS: Record<keyof ViewTables, string[]> = {
  conferences: ['conference_id', 'name', 'created_at', 'last_position'],
  seats: ['conference_id', 'seat_type', 'ordinal', 'capacity', 'reserved', 'last_position'],
  reservations: ['conference_id', 'reservation_id', 'seats', 'status', 'reserved_at', 'cancelled_at', 'last_position'],
};

type Json = postgres.JSONValue;

/**
 * Applies a batch of events to a set of views, in a few set-based statements. Idempotent: each
 * row keeps the position of the last event applied to it, and only later events change it.
 * Run it inside the transaction that also advances the reader's checkpoint.
 */
export const applyEvents = async (sql: Queryable, tables: ViewTables, events: RecordedEvent[]): Promise<void> => {
  const changes = viewChanges(events);
  const conferences = sql(tables.conferences);
  const seats = sql(tables.seats);
  const reservations = sql(tables.reservations);

  if (changes.conferences.length > 0) {
    await sql`
      insert into ${conferences} (conference_id, name, created_at, last_position)
      select * from jsonb_to_recordset(${sql.json(changes.conferences as Json)})
        as x(conference_id text, name text, created_at timestamptz, last_position bigint)
      on conflict do nothing`;
    await sql`
      insert into ${seats} (conference_id, seat_type, ordinal, capacity, reserved, last_position)
      select conference_id, seat_type, ordinal, capacity, 0, last_position
      from jsonb_to_recordset(${sql.json(changes.seatTypes as Json)})
        as x(conference_id text, seat_type text, ordinal int, capacity int, last_position bigint)
      on conflict do nothing`;
  }

  if (changes.seatDeltas.length > 0) {
    // Only deltas of events later than what a row has seen are summed into it.
    await sql`
      update ${seats} as v
      set reserved = v.reserved + d.delta, last_position = d.last_position
      from (
        select x.conference_id, x.seat_type, sum(x.delta)::int as delta, max(x.position) as last_position
        from jsonb_to_recordset(${sql.json(changes.seatDeltas as Json)})
          as x(conference_id text, seat_type text, position bigint, delta int)
        join ${seats} as s on s.conference_id = x.conference_id and s.seat_type = x.seat_type
        where x.position > s.last_position
        group by x.conference_id, x.seat_type
      ) as d
      where v.conference_id = d.conference_id and v.seat_type = d.seat_type`;
  }

  if (changes.reservations.length > 0) {
    await sql`
      insert into ${reservations} as v (conference_id, reservation_id, seats, status, reserved_at, cancelled_at, last_position)
      select conference_id, reservation_id, seats, status, reserved_at, cancelled_at, last_position
      from jsonb_to_recordset(${sql.json(changes.reservations as Json)})
        as x(conference_id text, reservation_id text, seats jsonb, status text, reserved_at timestamptz,
             cancelled_at timestamptz, last_position bigint)
      on conflict (conference_id, reservation_id) do update
        set seats = excluded.seats, status = excluded.status, reserved_at = excluded.reserved_at,
            cancelled_at = excluded.cancelled_at, last_position = excluded.last_position
        where v.last_position < excluded.last_position`;
  }

  if (changes.cancellations.length > 0) {
    await sql`
      update ${reservations} as v
      set status = 'cancelled', cancelled_at = x.cancelled_at, last_position = x.last_position
      from jsonb_to_recordset(${sql.json(changes.cancellations as Json)})
        as x(conference_id text, reservation_id text, cancelled_at timestamptz, last_position bigint)
      where v.conference_id = x.conference_id and v.reservation_id = x.reservation_id
        and v.last_position < x.last_position`;
  }

  if (changes.conferencePositions.length > 0) {
    await sql`
      update ${conferences} as v set last_position = x.last_position
      from jsonb_to_recordset(${sql.json(changes.conferencePositions as Json)}) as x(conference_id text, last_position bigint)
      where v.conference_id = x.conference_id and v.last_position < x.last_position`;
  }
};
