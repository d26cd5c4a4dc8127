import type { Bookings, BookingResult, Reservation, ReservationRequest } from '../bookings.js';
import type { Sql } from '../database/connect.js';
import {
  ABSENT,
  decide,
  type OpenConference,
  type Reservation as SeatReservation,
  type SeatAvailabilityCommand,
  type SeatCount,
  type SeatQuantity,
} from '../seat-availability/index.js';
import { crudConferences, NO_HOLDS_YET, reservationOfRow, type ReservationRow } from './crud-conferences.js';

/** What `crud_atomic_reserve` and `crud_atomic_cancel` report when they changed nothing. */
type Facts = {
  existingSeats: SeatQuantity[] | null;
  existingStatus: ReservationRow['status'] | null;
  counters: { seatType: string; capacity: number; reserved: number }[] | null;
  conferenceExists: boolean;
};

/**
 * A reservation answered "no" only because a cancel freed seats between the function's write
 * attempt and its read of the counters is tried again, at most this many times.
 */
const MAX_ATTEMPTS = 3;

/**
 * The strongest CRUD design (`crud-atomic`): the same tables and answers as the naive one, but
 * every reserve and cancel is ONE round trip, a call of a PL/pgSQL function (custom migration
 * drizzle/0005_crud_atomic.sql) that checks and bumps each counter in one conditional UPDATE, in
 * seat-type order, and records the reservation. Locks are held for that one statement only.
 * When the function changed nothing, it returns the facts, and the aggregate's own `decide`
 * turns them into the same rejection the other designs give.
 */
export const crudAtomicBookings = (sql: Sql, options: { clock?: () => Date } = {}): Bookings => {
  const { clock = () => new Date() } = options;

  const reserveSeats = async (
    { conferenceId, reservationId, seats }: ReservationRequest,
    attempt = 1,
  ): Promise<BookingResult<Reservation>> => {
    const [row] = await sql<({ reserved: boolean } & Facts)[]>`
      select reserved, existing_seats as "existingSeats", existing_status as "existingStatus", counters,
        conference_exists as "conferenceExists"
      from crud_atomic_reserve(${conferenceId}, ${reservationId}, ${sql.json(seats)}, ${clock()})`;
    if (!row) throw new Error('crud_atomic_reserve returned no row');
    if (row.reserved)
      return { kind: 'ok', created: true, value: { reservationId, conferenceId, seats, status: 'reserved' } };
    const command: SeatAvailabilityCommand = { type: 'ReserveSeats', conferenceId, reservationId, seats, now: '' };
    const decision = decide(stateOf(conferenceId, row), command, existingOf(row));
    if (decision.kind === 'rejected') return decision;
    if (decision.events.length === 0) {
      const value = { reservationId, conferenceId, seats: row.existingSeats ?? seats, status: 'reserved' as const };
      return { kind: 'ok', created: false, value };
    }
    // The seats that were missing when the function tried are there now (a cancel committed in
    // between): try again rather than answer "insufficient" with counters that say otherwise.
    if (attempt < MAX_ATTEMPTS) return reserveSeats({ conferenceId, reservationId, seats }, attempt + 1);
    return { kind: 'rejected', rejection: { kind: 'insufficient_seats', remaining: remainingOf(seats, row) } };
  };

  return {
    ...crudConferences(sql, clock),
    ...NO_HOLDS_YET,

    reserveSeats: (request) => reserveSeats(request),

    async cancelReservation({ conferenceId, reservationId }) {
      const [row] = await sql<({ cancelled: boolean } & Facts)[]>`
        select cancelled, existing_seats as "existingSeats", existing_status as "existingStatus",
          null::jsonb as counters, conference_exists as "conferenceExists"
        from crud_atomic_cancel(${conferenceId}, ${reservationId}, ${clock()})`;
      if (!row) throw new Error('crud_atomic_cancel returned no row');
      const seats = row.existingSeats ?? [];
      if (row.cancelled) {
        return { kind: 'ok', created: true, value: { reservationId, conferenceId, seats, status: 'cancelled' } };
      }
      const command: SeatAvailabilityCommand = { type: 'CancelReservation', conferenceId, reservationId, now: '' };
      const decision = decide(stateOf(conferenceId, row), command, existingOf(row));
      if (decision.kind === 'rejected') return decision;
      if (decision.events.length > 0) throw new Error(`crud_atomic_cancel left reservation ${reservationId} reserved`);
      // Cancelled already: that changes nothing and succeeds.
      return { kind: 'ok', created: false, value: { reservationId, conferenceId, seats, status: 'cancelled' } };
    },
  };
};

/** The reported counters as the aggregate's state, so `decide` can judge the command. */
const stateOf = (conferenceId: string, facts: Facts): OpenConference | { status: 'absent' } =>
  facts.conferenceExists
    ? {
        status: 'open',
        conferenceId,
        name: '',
        seatTypes: new Map<string, SeatCount>(
          (facts.counters ?? []).map((c) => [c.seatType, { capacity: c.capacity, reserved: c.reserved, held: 0 }]),
        ),
      }
    : { status: 'absent' };

/** The reported reservation row as what the id names so far. */
const existingOf = (facts: Facts): SeatReservation =>
  facts.existingSeats && facts.existingStatus
    ? reservationOfRow({ status: facts.existingStatus, seats: facts.existingSeats, expiresAt: null })
    : ABSENT;

const remainingOf = (seats: SeatQuantity[], facts: Facts) =>
  seats.map(({ seatType, quantity }) => {
    const counter = facts.counters?.find((c) => c.seatType === seatType);
    return { seatType, requested: quantity, remaining: counter ? counter.capacity - counter.reserved : 0 };
  });
