import { inRange } from '../event-store/event-store.js';
import { rangeEvents, type RangeStatement } from './apply-range.js';
import { STORED_EVENT_NAMES } from '../seat-availability/index.js';
import type { Projection } from './projection-contract.js';

/**
 * The names of the events and of their fields that these statements read, checked against the
 * event types. Bound as parameters: an untyped parameter after `->>` is taken as a key.
 */
const { eventType, anyEvent, conferenceCreated, seatsChanged, seatTypeCapacity, seatQuantity } = STORED_EVENT_NAMES;

/** New conferences and their seat types, in the order the seat types were created. */
const applyConferencesCreated: RangeStatement = async (sql, tables, after, last) => {
  await sql`
    with created as (
      select data, position from events
      where ${inRange(sql, after, last)} and type = ${eventType.ConferenceCreated}
    ), conferences as (
      insert into ${sql(tables.conferences)} (conference_id, name, created_at, last_position)
      select data->>${conferenceCreated.conferenceId}, data->>${conferenceCreated.name},
        (data->>${conferenceCreated.createdAt})::timestamptz, position
      from created
      on conflict do nothing
    )
    insert into ${sql(tables.seats)} (conference_id, seat_type, ordinal, capacity, reserved, last_position)
    select c.data->>${conferenceCreated.conferenceId}, t.seat->>${seatTypeCapacity.type}, (t.ordinal - 1)::int,
      (t.seat->>${seatTypeCapacity.capacity})::int, 0, c.position
    from created c, jsonb_array_elements(c.data->${conferenceCreated.seatTypes}) with ordinality as t(seat, ordinal)
    on conflict do nothing`;
};

/**
 * How each event that moves seats changes the two counts, per seat it names: a reservation takes
 * reserved seats, a hold takes held ones, a confirm moves them from held to reserved, a cancel
 * gives reserved seats back, a release or an expiry gives held ones back.
 */
const SEAT_MOVES = [
  { type: eventType.SeatsReserved, reserved: 1, held: 0 },
  { type: eventType.ReservationCancelled, reserved: -1, held: 0 },
  { type: eventType.SeatsHeld, reserved: 0, held: 1 },
  { type: eventType.HoldConfirmed, reserved: 1, held: -1 },
  { type: eventType.HoldReleased, reserved: 0, held: -1 },
  { type: eventType.HoldExpired, reserved: 0, held: -1 },
] as const satisfies { type: SeatMovingEvent; reserved: -1 | 0 | 1; held: -1 | 0 | 1 }[];

/** Every event type that moves seats must say how: this fails to compile while one is left out. */
type SeatMovingEvent = Exclude<keyof typeof eventType, 'ConferenceCreated'>;
const _everyMove: Exclude<SeatMovingEvent, (typeof SEAT_MOVES)[number]['type']> extends never ? true : never = true;

/**
 * The sum of the seat deltas per conference and seat type, and each conference's last
 * position. A separate statement from the creations, so it sees the seat rows a creation in the
 * same batch inserted.
 */
const applySeatDeltas: RangeStatement = async (sql, tables, after, last) => {
  const seats = sql(tables.seats);
  const conferences = sql(tables.conferences);
  await sql`
    with batch as (
      ${rangeEvents(sql, after, last)}
    ), moves as (
      select * from jsonb_to_recordset(${sql.json(SEAT_MOVES)}) as m(type text, reserved int, held int)
    ), deltas as (
      select b.data->>${seatsChanged.conferenceId} as conference_id, s->>${seatQuantity.seatType} as seat_type,
        b.position, m.reserved * (s->>${seatQuantity.quantity})::int as reserved,
        m.held * (s->>${seatQuantity.quantity})::int as held
      from batch b join moves m on m.type = b.type, jsonb_array_elements(b.data->${seatsChanged.seats}) s
    ), summed as (
      select d.conference_id, d.seat_type, sum(d.reserved)::int as reserved, sum(d.held)::int as held,
        max(d.position) as last_position
      from deltas d join ${seats} v on v.conference_id = d.conference_id and v.seat_type = d.seat_type
      where d.position > v.last_position
      group by d.conference_id, d.seat_type
    ), seats_changed as (
      update ${seats} as v
      set reserved = v.reserved + s.reserved, held = v.held + s.held, last_position = s.last_position
      from summed s where v.conference_id = s.conference_id and v.seat_type = s.seat_type
    )
    update ${conferences} as v set last_position = x.last_position
    from (
      select data->>${anyEvent.conferenceId} as conference_id, max(position) as last_position from batch group by 1
    ) x
    where v.conference_id = x.conference_id and v.last_position < x.last_position`;
};

/**
 * The remaining-seats view and the conference list, applied by PostgreSQL itself: a few
 * set-based statements over the batch's range of events, with no event data shipped to node and
 * back, so a batch costs about the same whether it holds 10 events or 5,000. Idempotent: a row
 * only takes the deltas of events later than the last one it has seen.
 */
export const remainingSeats: Projection = {
  name: 'remaining_seats',
  locks: { leader: 72_630_001, batch: 72_630_002, rebuild: 72_630_003 },
  views: ['conferences', 'seats'],
  statements: [applyConferencesCreated, applySeatDeltas],
};
