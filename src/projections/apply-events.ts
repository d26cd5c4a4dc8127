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
  seats: ['conference_id', 'seat_type', 'ordinal', 'capacity', 'reserved', 'held', 'last_position'],
  reservations: [
    'conference_id',
    'reservation_id',
    'seats',
    'status',
    'reserved_at',
    'cancelled_at',
    'expires_at',
    'confirmed_at',
    'released_at',
    'expired_at',
    'last_position',
  ],
};

/**
 * Applies a batch of events to a reservations view, in a few set-based statements. Idempotent:
 * each row keeps the position of the last event applied to it, and only later events change it.
 * Run it inside the transaction that also advances the projection's checkpoint.
 */
export const applyReservationChanges = async (
  sql: Queryable,
  tables: ViewTables,
  events: RecordedEvent[],
): Promise<void> => {
  const { reservations: rows, statusChanges } = viewChanges(events);
  const reservations = sql(tables.reservations);
  // Both sent at once: they touch different rows (a status change here is of an earlier batch's row).
  const writes: Promise<unknown>[] = [];
  if (rows.length > 0) {
    writes.push(sql`
      insert into ${reservations} as v (${sql(RESERVATION_ROW_COLUMNS)})
      select ${sql(RESERVATION_ROW_COLUMNS)}
      from jsonb_to_recordset(${sql.json(rows)})
        as x(conference_id text, reservation_id text, seats jsonb, status text, reserved_at timestamptz,
             expires_at timestamptz, cancelled_at timestamptz, confirmed_at timestamptz, released_at timestamptz,
             expired_at timestamptz, last_position bigint)
      on conflict (conference_id, reservation_id) do update
        set seats = excluded.seats, status = excluded.status, reserved_at = excluded.reserved_at,
            expires_at = excluded.expires_at, cancelled_at = excluded.cancelled_at,
            confirmed_at = excluded.confirmed_at, released_at = excluded.released_at,
            expired_at = excluded.expired_at, last_position = excluded.last_position
        where v.last_position < excluded.last_position`);
  }
  if (statusChanges.length > 0) {
    writes.push(sql`
      update ${reservations} as v
      set status = x.status, cancelled_at = coalesce(x.cancelled_at, v.cancelled_at),
          confirmed_at = coalesce(x.confirmed_at, v.confirmed_at), released_at = coalesce(x.released_at, v.released_at),
          expired_at = coalesce(x.expired_at, v.expired_at), last_position = x.last_position
      from jsonb_to_recordset(${sql.json(statusChanges)})
        as x(conference_id text, reservation_id text, status text, cancelled_at timestamptz,
             confirmed_at timestamptz, released_at timestamptz, expired_at timestamptz, last_position bigint)
      where v.conference_id = x.conference_id and v.reservation_id = x.reservation_id
        and v.last_position < x.last_position`);
  }
  await Promise.all(writes);
};

/** The reservations view's columns, as a batch's new rows carry them. */
const RESERVATION_ROW_COLUMNS = VIEW_COLUMNS.reservations;
