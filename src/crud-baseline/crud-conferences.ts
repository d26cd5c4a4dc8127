import {
  availabilityFromRows,
  reservationFromRow,
  reservationPage,
  STORED_RESERVATION_COLUMNS,
  type Availability,
  type Bookings,
  type BookingResult,
  type StoredReservation,
} from '../bookings.js';
import type { Sql } from '../database/connect.js';
import type { SeatQuantity } from '../seat-availability/index.js';

/** A row of crud_reservations as both CRUD designs read it. */
export type ReservationRow = { seats: SeatQuantity[]; status: 'reserved' | 'cancelled' };

/** What each CRUD design writes in its own way. */
export type CrudWrites = 'reserveSeats' | 'cancelReservation' | 'holdSeats' | 'confirmReservation' | 'releaseHold';

/** Until the CRUD designs learn holds (issue 25): a branch-only placeholder. */
export const NO_HOLDS_YET: Pick<Bookings, 'holdSeats' | 'confirmReservation' | 'releaseHold'> = {
  holdSeats: () => Promise.reject(new Error('holds are not built for this design yet')),
  confirmReservation: () => Promise.reject(new Error('holds are not built for this design yet')),
  releaseHold: () => Promise.reject(new Error('holds are not built for this design yet')),
};

/**
 * What both CRUD designs share: the tables (a conference row, one counter row per seat type, a
 * reservations table), creating a conference, and every read. They differ only in how a
 * reservation and a cancel are written: see crud-bookings.ts and crud-atomic-bookings.ts.
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
    const rows = await sql<{ name: string; type: string; capacity: number; reserved: number }[]>`
      select c.name, s.seat_type as type, s.capacity, s.reserved
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
});
