import type { Sql } from '../../src/database/connect.js';

/** Every row of every view, in a stable order, for comparing two states of the views. */
export const viewContents = async (sql: Sql) => ({
  conferences:
    await sql`select conference_id, name, created_at, last_position from conference_list order by conference_id`,
  seats: await sql`
    select conference_id, seat_type, ordinal, capacity, reserved, remaining, last_position
    from seat_availability_view order by conference_id, seat_type`,
  reservations: await sql`
    select conference_id, reservation_id, seats, status, reserved_at, cancelled_at, attendee_id, last_position
    from reservations_view order by conference_id, reservation_id`,
});

/** Polls until `check` stops throwing, or fails with its last error after the deadline. */
export const eventually = async (check: () => Promise<void>, deadlineMs = 20_000): Promise<void> => {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((next) => setTimeout(next, 25));
    }
  }
};
