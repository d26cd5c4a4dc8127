import { rangeEvents, type RangeStatement } from './apply-range.js';
import { STORED_EVENT_NAMES, type ReservationStatus } from '../seat-availability/index.js';
import type { Projection } from './projection-contract.js';

/**
 * The names of the events and of their fields that these statements read, checked against the
 * event types. Bound as parameters: an untyped parameter after `->>` is taken as a key.
 */
const { eventType, seatsChanged, times, namesAttendee, attendee } = STORED_EVENT_NAMES;

/** The id of the attendee an event names (null when it names none, or is of a version before attendees), as SQL. */
const ATTENDEE_ID = `{${namesAttendee.attendee},${attendee.id}}`;

/**
 * The row each event that takes seats writes: its status, the field holding the time the seats
 * were taken (`at`), and the one holding a hold's due time (`due`; none for a reservation).
 */
const SEATS_TAKEN = [
  { type: eventType.SeatsReserved, status: 'reserved', at: times.SeatsReserved.reservedAt, due: null },
  { type: eventType.SeatsHeld, status: 'held', at: times.SeatsHeld.heldAt, due: times.SeatsHeld.expiresAt },
] as const satisfies { type: ReservationEvent; status: ReservationStatus; at: string; due: string | null }[];

/**
 * The status each later event leaves a reservation at, and the field holding the time it
 * records: a cancel of a reservation or of a confirmed hold, a hold's confirm, release or expiry.
 */
const STATUS_CHANGES = [
  { type: eventType.ReservationCancelled, status: 'cancelled', at: times.ReservationCancelled.cancelledAt },
  { type: eventType.HoldConfirmed, status: 'confirmed', at: times.HoldConfirmed.confirmedAt },
  { type: eventType.HoldReleased, status: 'released', at: times.HoldReleased.releasedAt },
  { type: eventType.HoldExpired, status: 'expired', at: times.HoldExpired.expiredAt },
] as const satisfies { type: ReservationEvent; status: ReservationStatus; at: string }[];

/** Every event about a reservation takes its seats or changes its status: this fails to compile while one does neither. */
type ReservationEvent = Exclude<keyof typeof eventType, 'ConferenceCreated'>;
const _everyEvent: Exclude<
  ReservationEvent,
  (typeof SEATS_TAKEN)[number]['type'] | (typeof STATUS_CHANGES)[number]['type']
> extends never
  ? true
  : never = true;

/**
 * The rows of the reservations and holds taken in the batch, as the event that took the seats
 * writes them (the last such event of an id, should one be taken again). A row an earlier batch
 * wrote is replaced only by a later event, so applying a batch again changes nothing.
 */
const applySeatsTaken: RangeStatement = async (sql, tables, after, last) => {
  await sql`
    with batch as (
      ${rangeEvents(sql, after, last)}
    ), taken as (
      select * from jsonb_to_recordset(${sql.json(SEATS_TAKEN)}) as t(type text, status text, at text, due text)
    )
    insert into ${sql(tables.reservations)} as v
      (conference_id, reservation_id, seats, status, reserved_at, expires_at, attendee_id, last_position)
    select distinct on (1, 2) b.data->>${seatsChanged.conferenceId}, b.data->>${seatsChanged.reservationId},
      b.data->${seatsChanged.seats}, t.status, (b.data->>t.at)::timestamptz, (b.data->>t.due)::timestamptz,
      b.data#>>${ATTENDEE_ID}::text[], b.position
    from batch b join taken t on t.type = b.type
    order by 1, 2, b.position desc
    on conflict (conference_id, reservation_id) do update
      set seats = excluded.seats, status = excluded.status, reserved_at = excluded.reserved_at,
          expires_at = excluded.expires_at, cancelled_at = null, confirmed_at = null, released_at = null,
          expired_at = null, attendee_id = excluded.attendee_id, last_position = excluded.last_position
      where v.last_position < excluded.last_position`;
};

/**
 * The batch's later events of each row, folded into one change: the status of the last of them,
 * each time column from the last event of its own type (or kept, when the batch has none), and
 * the position of the last. A separate statement from the seats taken, so it sees the rows taken
 * earlier in the same batch: a hold taken, confirmed and cancelled in one batch ends cancelled,
 * with the times of all three.
 */
const applyStatusChanges: RangeStatement = async (sql, tables, after, last) => {
  const reservations = sql(tables.reservations);
  await sql`
    with batch as (
      ${rangeEvents(sql, after, last)}
    ), changes as (
      select * from jsonb_to_recordset(${sql.json(STATUS_CHANGES)}) as c(type text, status text, at text)
    ), changed as (
      select v.conference_id, v.reservation_id, b.position, b.type, c.status, (b.data->>c.at)::timestamptz as at,
        b.data#>>${ATTENDEE_ID}::text[] as attendee_id
      from batch b join changes c on c.type = b.type
      -- One probe of the view's key per event, whatever the statistics say: joined plainly, the
      -- generic plan of this prepared statement hashed the whole view, which grows with every
      -- reservation (test/event-store-plans.test.ts pins it); offset 0 keeps the probe a nested loop.
      cross join lateral (
        select conference_id, reservation_id, last_position from ${reservations} v
        where v.conference_id = b.data->>${seatsChanged.conferenceId}
          and v.reservation_id = b.data->>${seatsChanged.reservationId}
        offset 0
      ) v
      where b.position > v.last_position
    ), folded as (
      select conference_id, reservation_id, max(position) as last_position,
        (array_agg(status order by position desc))[1] as status,
        (array_agg(at order by position desc) filter (where type = ${eventType.ReservationCancelled}))[1] as cancelled_at,
        (array_agg(at order by position desc) filter (where type = ${eventType.HoldConfirmed}))[1] as confirmed_at,
        (array_agg(at order by position desc) filter (where type = ${eventType.HoldReleased}))[1] as released_at,
        (array_agg(at order by position desc) filter (where type = ${eventType.HoldExpired}))[1] as expired_at,
        -- A confirm names the hold's attendee; nothing later unnames it.
        (array_agg(attendee_id order by position desc) filter (where attendee_id is not null))[1] as attendee_id
      from changed group by conference_id, reservation_id
    )
    update ${reservations} as v
    set status = f.status, cancelled_at = coalesce(f.cancelled_at, v.cancelled_at),
        confirmed_at = coalesce(f.confirmed_at, v.confirmed_at), released_at = coalesce(f.released_at, v.released_at),
        expired_at = coalesce(f.expired_at, v.expired_at), attendee_id = coalesce(f.attendee_id, v.attendee_id),
        last_position = f.last_position
    from folded f where v.conference_id = f.conference_id and v.reservation_id = f.reservation_id`;
};

/**
 * The reservations view: a row per reservation or hold, its seats, status, the time of each
 * change, and the id of the attendee it names (never their personal fields). Applied by PostgreSQL itself, as the remaining seats are: two set-based statements over
 * the batch's range of events, with no event data shipped to node and back, so a batch costs
 * about the same whether it holds 10 events or 5,000. Idempotent: a row only takes the events
 * later than the last one it has seen.
 */
export const reservations: Projection = {
  name: 'reservations',
  locks: { leader: 72_630_011, batch: 72_630_012, rebuild: 72_630_013 },
  views: ['reservations'],
  statements: [applySeatsTaken, applyStatusChanges],
};
