import type { Availability, ConferenceSummary, Reservation } from '../bookings.js';
import type { Queryable } from '../database/connect.js';
import type { SeatQuantity } from '../seat-availability/index.js';

/** Queries of the views: what eventually consistent reads answer from. */
export const createReadModel = (sql: Queryable) => ({
  async conferences(): Promise<ConferenceSummary[]> {
    const rows = await sql<{ conferenceId: string; name: string; createdAt: Date; position: number }[]>`
      select conference_id as "conferenceId", name, created_at as "createdAt", last_position as position
      from conference_list order by created_at, conference_id`;
    return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
  },

  async availability(conferenceId: string): Promise<Availability | undefined> {
    const rows = await sql<
      { name: string; position: number; type: string; capacity: number; reserved: number; remaining: number }[]
    >`
      select c.name, c.last_position as position, s.seat_type as type, s.capacity, s.reserved, s.remaining
      from conference_list c join seat_availability_view s using (conference_id)
      where c.conference_id = ${conferenceId}
      order by s.ordinal`;
    const first = rows[0];
    if (!first) return undefined;
    return {
      conferenceId,
      name: first.name,
      seatTypes: rows.map(({ type, capacity, reserved, remaining }) => ({ type, capacity, reserved, remaining })),
      position: first.position,
    };
  },

  async reservations(conferenceId: string, { after, limit }: { after: string; limit: number }) {
    const rows = await sql<{ reservationId: string; seats: SeatQuantity[]; status: 'reserved' | 'cancelled' }[]>`
      select reservation_id as "reservationId", seats, status from reservations_view
      where conference_id = ${conferenceId} and reservation_id > ${after}
      order by reservation_id limit ${limit}`;
    if (rows.length === 0 && !(await sql`select 1 from conference_list where conference_id = ${conferenceId}`).length) {
      return undefined;
    }
    return rows.map((row): Reservation => ({ ...row, conferenceId }));
  },

  async reservation(conferenceId: string, reservationId: string): Promise<Reservation | undefined> {
    const [row] = await sql<
      { seats: SeatQuantity[]; status: 'reserved' | 'cancelled'; reservedAt: Date; cancelledAt: Date | null }[]
    >`
      select seats, status, reserved_at as "reservedAt", cancelled_at as "cancelledAt"
      from reservations_view where conference_id = ${conferenceId} and reservation_id = ${reservationId}`;
    if (!row) return undefined;
    return {
      reservationId,
      conferenceId,
      seats: row.seats,
      status: row.status,
      reservedAt: row.reservedAt.toISOString(),
      ...(row.cancelledAt ? { cancelledAt: row.cancelledAt.toISOString() } : {}),
    };
  },
});

export type ReadModel = ReturnType<typeof createReadModel>;
