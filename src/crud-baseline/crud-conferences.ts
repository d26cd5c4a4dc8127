import {
  availabilityFromRows,
  reservationFromRow,
  reservationPage,
  STORED_RESERVATION_COLUMNS,
  type Availability,
  type Bookings,
  type BookingResult,
  type Reservation,
  type ReservationKey,
  type StoredReservation,
  type ReservationStatus,
} from '../bookings.js';
import type { Sql } from '../database/connect.js';
import {
  ABSENT,
  reservationOf,
  type OpenConference,
  type Reservation as SeatReservation,
  type SeatAvailabilityEvent,
  type SeatQuantity,
} from '../seat-availability/index.js';

/** A row of crud_reservations as both CRUD designs read it to judge a command. */
export type ReservationRow = { seats: SeatQuantity[]; status: ReservationStatus; expiresAt: Date | null };

/** A row of crud_seat_counters as both CRUD designs read it to judge a command. */
export type CounterRow = { seatType: string; capacity: number; reserved: number; held: number };

/** What each CRUD design writes in its own way. */
export type CrudWrites = 'reserveSeats' | 'cancelReservation' | 'holdSeats' | 'confirmReservation' | 'releaseHold';

/** A hold the sweep expired. */
export type ExpiredHold = ReservationKey;

/** A CRUD design: the booking contract, and the expiry of the holds due at `now` that its sweep runs. */
export type CrudBookings = Bookings & { expireDueHolds: (now: Date) => Promise<ExpiredHold[]> };

/** Counter rows as the aggregate's state, so `decide` can judge a command on what was read. */
export const stateOf = (conferenceId: string, counters: CounterRow[]): OpenConference => ({
  status: 'open',
  conferenceId,
  name: '',
  seatTypes: new Map(counters.map((c) => [c.seatType, { capacity: c.capacity, reserved: c.reserved, held: c.held }])),
});

/** What a reservation id names so far, as `decide` takes it: its row, or nothing. */
export const reservationOfRow = (row: ReservationRow | undefined): SeatReservation => {
  if (!row) return ABSENT;
  const { seats, status, expiresAt } = row;
  if (status !== 'held' && status !== 'expired') return { status, seats };
  if (!expiresAt) throw new Error(`a ${status} reservation has no expires_at`);
  return { status, seats, expiresAt: expiresAt.toISOString() };
};

/** A reservation as a command answers it, as the event-sourced path does: seats, status and a hold's due time. */
export const reservationAnswer = (
  { conferenceId, reservationId }: ReservationKey,
  reservation: SeatReservation,
): Reservation => {
  if (reservation.status === 'absent') throw new Error(`accepted reservation ${reservationId} names nothing`);
  return {
    reservationId,
    conferenceId,
    seats: reservation.seats,
    status: reservation.status,
    ...('expiresAt' in reservation ? { expiresAt: reservation.expiresAt } : {}),
  };
};

/**
 * An accepted command's answer: the reservation as it stands after the command's events (the
 * domain's own fold), created when there were any.
 */
export const acceptedResult = (
  key: ReservationKey,
  before: SeatReservation,
  events: SeatAvailabilityEvent[],
): BookingResult<Reservation> => ({
  kind: 'ok',
  created: events.length > 0,
  value: reservationAnswer(key, reservationOf(events, before)),
});

/**
 * What both CRUD designs share: the tables (a conference row, one counter row per seat type, a
 * reservations table), creating a conference, and every read. They differ only in how a
 * reservation, a hold and a change of either are written, and holds expired: see crud-bookings.ts
 * and crud-atomic-bookings.ts.
 */
export const crudConferences = (sql: Sql, clock: () => Date): Omit<Bookings, CrudWrites> => ({
  async createConference({ conferenceId, name, seatTypes }) {
    return sql.begin(async (tx): Promise<BookingResult<Availability>> => {
      const created = await tx`
          insert into crud_conferences (conference_id, name, created_at) values (${conferenceId}, ${name}, ${clock()})
          on conflict do nothing returning 1`;
      if (created.length === 0) return { kind: 'rejected', rejection: { kind: 'conference_exists', conferenceId } };
      const rows = seatTypes.map(({ type, capacity }, ordinal) => ({
        conference_id: conferenceId,
        seat_type: type,
        ordinal,
        capacity,
        reserved: 0,
      }));
      await tx`insert into crud_seat_counters ${tx(rows)}`;
      return {
        kind: 'ok',
        created: true,
        value: {
          conferenceId,
          name,
          seatTypes: seatTypes.map(({ type, capacity }) => ({
            type,
            capacity,
            reserved: 0,
            held: 0,
            remaining: capacity,
          })),
          position: 0,
        },
      };
    });
  },

  async availability(conferenceId) {
    const rows = await sql<{ name: string; type: string; capacity: number; reserved: number; held: number }[]>`
        select c.name, s.seat_type as type, s.capacity, s.reserved, s.held
        from crud_conferences c join crud_seat_counters s using (conference_id)
        where c.conference_id = ${conferenceId}
        order by s.ordinal`;
    return availabilityFromRows(conferenceId, rows, 0);
  },

  async conferences() {
    const rows = await sql<{ conferenceId: string; name: string; createdAt: Date }[]>`
        select conference_id as "conferenceId", name, created_at as "createdAt"
        from crud_conferences order by created_at, conference_id`;
    return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString(), position: 0 }));
  },

  async reservations(conferenceId, { after, limit }) {
    const rows = await sql<(StoredReservation & { reservationId: string })[]>`
        select reservation_id as "reservationId", ${sql.unsafe(STORED_RESERVATION_COLUMNS)} from crud_reservations
        where conference_id = ${conferenceId} and reservation_id > ${after}
        order by reservation_id limit ${limit}`;
    return reservationPage(
      conferenceId,
      rows,
      async () => (await sql`select 1 from crud_conferences where conference_id = ${conferenceId}`).length > 0,
    );
  },

  async reservation(conferenceId, reservationId) {
    const [row] = await sql<StoredReservation[]>`
        select ${sql.unsafe(STORED_RESERVATION_COLUMNS)}
        from crud_reservations where conference_id = ${conferenceId} and reservation_id = ${reservationId}`;
    return row && reservationFromRow(conferenceId, reservationId, row);
  },

  // The baselines compare the cost of seat counting; personal data and forgetting are the
  // event-sourced design's (a table row would be forgotten by an UPDATE).
  namesAttendees: false,
});
