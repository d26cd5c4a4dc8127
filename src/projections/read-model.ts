import {
  availabilityFromRows,
  reservationFromRow,
  reservationPage,
  type Availability,
  type ConferenceSummary,
  STORED_RESERVATION_COLUMNS,
  type Reservation,
  type SeatRow,
  type StoredReservation,
} from '../bookings.js';
import type { Queryable } from '../database/connect.js';

/** Queries of the views: what eventually consistent reads answer from. */
export const createReadModel = (sql: Queryable) => ({
  async conferences(): Promise<ConferenceSummary[]> {
    const rows = await sql<{ conferenceId: string; name: string; createdAt: Date; position: number }[]>`
      select conference_id as "conferenceId", name, created_at as "createdAt", last_position as position
      from conference_list order by created_at, conference_id`;
    return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
  },

  async availability(conferenceId: string): Promise<Availability | undefined> {
    const rows = await sql<(SeatRow & { position: number })[]>`
      select c.name, c.last_position as position, s.seat_type as type, s.capacity, s.reserved, s.held, s.remaining
      from conference_list c join seat_availability_view s using (conference_id)
      where c.conference_id = ${conferenceId}
      order by s.ordinal`;
    return availabilityFromRows(conferenceId, rows, rows[0]?.position ?? 0);
  },

  async reservations(conferenceId: string, { after, limit }: { after: string; limit: number }) {
    const rows = await sql<(StoredReservation & { reservationId: string })[]>`
      select reservation_id as "reservationId", ${sql.unsafe(STORED_RESERVATION_COLUMNS)},
        attendee_id as "attendeeId"
      from reservations_view
      where conference_id = ${conferenceId} and reservation_id > ${after}
      order by reservation_id limit ${limit}`;
    return reservationPage(
      conferenceId,
      rows,
      async () => (await sql`select 1 from conference_list where conference_id = ${conferenceId}`).length > 0,
    );
  },

  async reservation(conferenceId: string, reservationId: string): Promise<Reservation | undefined> {
    const [row] = await sql<StoredReservation[]>`
      select ${sql.unsafe(STORED_RESERVATION_COLUMNS)}, attendee_id as "attendeeId"
      from reservations_view where conference_id = ${conferenceId} and reservation_id = ${reservationId}`;
    return row && reservationFromRow(conferenceId, reservationId, row);
  },
});

export type ReadModel = ReturnType<typeof createReadModel>;
