import type postgres from 'postgres';
import type { Bookings, BookingResult, Reservation, ReservationRequest } from '../bookings.js';
import type { Sql } from '../database/connect.js';
import { crudConferences, NO_HOLDS_YET, type ReservationRow } from './crud-conferences.js';
import { ABSENT, decide, type OpenConference, type Rejection } from '../seat-availability/index.js';

export type CrudOptions = {
  clock?: () => Date;
  /**
   * Never set this in a real deployment: it reads the counters without `FOR UPDATE` and writes
   * back absolute values, the classic lost update. It exists only so the tests can show that
   * the load-test audit catches a design that loses or oversells seats.
   */
  unsafeWithoutRowLocks?: boolean;
};

type CounterRow = { seatType: string; capacity: number; reserved: number };

/**
 * The naive counter-update design, written as a competent engineer would: one transaction per
 * command that locks the counter rows it needs (`SELECT ... FOR UPDATE`, in seat-type order so
 * concurrent multi-seat bookings cannot deadlock), checks, updates the counters and writes the
 * reservation. The seat rules are the aggregate's own `decide`, applied to the locked rows, so
 * both designs answer every request identically.
 */
export const crudBookings = (sql: Sql, options: CrudOptions = {}): Bookings => {
  const { clock = () => new Date(), unsafeWithoutRowLocks = false } = options;
  const lock = unsafeWithoutRowLocks ? sql`` : sql`for update`;

  const lockCounters = (tx: postgres.TransactionSql, conferenceId: string, seatTypes: string[]) =>
    tx<CounterRow[]>`
      select seat_type as "seatType", capacity, reserved from crud_seat_counters
      where conference_id = ${conferenceId} and seat_type = any(${seatTypes})
      order by seat_type ${lock}`;

  const conferenceExists = async (tx: postgres.TransactionSql, conferenceId: string) =>
    (await tx`select 1 from crud_conferences where conference_id = ${conferenceId}`).length > 0;

  /** The locked rows as the aggregate's state, so `decide` can judge the command. */
  const stateOf = (conferenceId: string, counters: CounterRow[]): OpenConference => ({
    status: 'open',
    conferenceId,
    name: '',
    seatTypes: new Map(counters.map((c) => [c.seatType, { capacity: c.capacity, reserved: c.reserved, held: 0 }])),
  });

  const reserveSeats = async ({
    conferenceId,
    reservationId,
    seats,
  }: ReservationRequest): Promise<BookingResult<Reservation>> => {
    return sql
      .begin(async (tx): Promise<BookingResult<Reservation>> => {
        const counters = await lockCounters(
          tx,
          conferenceId,
          seats.map((s) => s.seatType),
        );
        if (counters.length === 0 && !(await conferenceExists(tx, conferenceId))) {
          return rejected({ kind: 'conference_not_found', conferenceId });
        }
        const [existing] = await tx<ReservationRow[]>`
        select seats, status from crud_reservations
        where conference_id = ${conferenceId} and reservation_id = ${reservationId}`;
        const state = stateOf(conferenceId, counters);
        // The seat rules are the aggregate's: the reservation row is what the id names so far.
        const decision = decide(
          state,
          { type: 'ReserveSeats', conferenceId, reservationId, seats, now: '' },
          existing ?? ABSENT,
        );
        if (decision.kind === 'rejected') return decision;
        const reservation = {
          reservationId,
          conferenceId,
          seats: existing?.seats ?? seats,
          status: 'reserved' as const,
        };
        if (decision.events.length === 0) return { kind: 'ok', created: false, value: reservation };

        const changes = seats.map(({ seatType, quantity }) => {
          const count = state.seatTypes.get(seatType) ?? { reserved: 0 };
          return { seat_type: seatType, quantity, reserved_after: count.reserved + quantity };
        });
        // One statement: bump the locked counters and record the reservation. (The unsafe variant
        // writes the value it computed from an unlocked read instead: the lost update.)
        const inserted = await tx`
        with bumped as (
          update crud_seat_counters as c
          set reserved = ${unsafeWithoutRowLocks ? tx`x.reserved_after` : tx`c.reserved + x.quantity`}
          from jsonb_to_recordset(${tx.json(changes)}) as x(seat_type text, quantity int, reserved_after int)
          where c.conference_id = ${conferenceId} and c.seat_type = x.seat_type
        )
        insert into crud_reservations (conference_id, reservation_id, seats, status, reserved_at)
        values (${conferenceId}, ${reservationId}, ${tx.json(seats)}, 'reserved', ${clock()})
        on conflict do nothing
        returning 1`;
        if (inserted.length === 0) throw new ReservationRaceError();
        return { kind: 'ok', created: true, value: reservation };
      })
      .catch(async (error: unknown) => {
        // Two first requests with the same new id but different seat types lock different rows
        // and both try to insert; the loser runs again and now sees the winner's reservation.
        if (error instanceof ReservationRaceError) return reserveSeats({ conferenceId, reservationId, seats });
        throw error;
      });
  };

  return {
    ...crudConferences(sql, clock),
    ...NO_HOLDS_YET,

    reserveSeats,

    async cancelReservation({ conferenceId, reservationId }) {
      return sql.begin(async (tx): Promise<BookingResult<Reservation>> => {
        const [existing] = await tx<ReservationRow[]>`
          select seats, status from crud_reservations
          where conference_id = ${conferenceId} and reservation_id = ${reservationId}
          for update`;
        if (!existing) {
          return rejected(
            (await conferenceExists(tx, conferenceId))
              ? { kind: 'reservation_not_found', reservationId }
              : { kind: 'conference_not_found', conferenceId },
          );
        }
        const counters = await lockCounters(
          tx,
          conferenceId,
          existing.seats.map((s) => s.seatType),
        );
        const state = stateOf(conferenceId, counters);
        const decision = decide(
          state,
          { type: 'CancelReservation', conferenceId, reservationId, now: '' },
          existing ?? ABSENT,
        );
        if (decision.kind === 'rejected') return decision;
        const reservation = { reservationId, conferenceId, seats: existing.seats, status: 'cancelled' as const };
        if (decision.events.length === 0) return { kind: 'ok', created: false, value: reservation };
        await tx`
          with returned as (
            update crud_seat_counters as c set reserved = c.reserved - x.quantity
            from jsonb_to_recordset(${tx.json(existing.seats)}) as x("seatType" text, quantity int)
            where c.conference_id = ${conferenceId} and c.seat_type = x."seatType"
          )
          update crud_reservations set status = 'cancelled', cancelled_at = ${clock()}
          where conference_id = ${conferenceId} and reservation_id = ${reservationId}`;
        return { kind: 'ok', created: true, value: reservation };
      });
    },
  };
};

const rejected = (rejection: Rejection) => ({ kind: 'rejected' as const, rejection });

class ReservationRaceError extends Error {
  override readonly name = 'ReservationRaceError';
}
