import type { BookingResult, Reservation, ReservationStatus } from '../bookings.js';
import type { Sql } from '../database/connect.js';
import {
  decide,
  expiresAtOf,
  type CancelReservation,
  type ConfirmReservation,
  type HoldSeats,
  type ReleaseHold,
  type ReserveSeats,
  type SeatAvailability,
  type SeatQuantity,
} from '../seat-availability/index.js';
import {
  acceptedResult,
  crudConferences,
  reservationAnswer,
  reservationOfRow,
  stateOf,
  type CounterRow,
  type CrudBookings,
  type ExpiredHold,
} from './crud-conferences.js';

/**
 * What a `crud_atomic_*` function reports: the reservation under the id as it stands after the
 * call, and when it changed nothing, the counters of the requested seat types and whether the
 * conference exists.
 */
type Facts = {
  existingSeats: SeatQuantity[] | null;
  existingStatus: ReservationStatus | null;
  existingExpiresAt: Date | null;
  counters: CounterRow[] | null;
  conferenceExists: boolean;
};

/**
 * A command answered "no" only because another committed between the function's write attempt
 * and its read of the facts (a cancel, release or expiry freed seats; a hold under the id
 * appeared) is tried again, at most this many times.
 */
const MAX_ATTEMPTS = 3;

/** The function that writes each change of what an id names. */
const CHANGES = {
  CancelReservation: 'crud_atomic_cancel',
  ConfirmReservation: 'crud_atomic_confirm',
  ReleaseHold: 'crud_atomic_release',
} as const;

/**
 * The strongest CRUD design (`crud-atomic`): the same tables and answers as the naive one, but
 * every command is ONE round trip, a call of a PL/pgSQL function (custom migrations
 * drizzle/0005_crud_atomic.sql and drizzle/0010_crud_atomic_holds.sql) that checks and writes in
 * conditional UPDATEs, in seat-type order: a take bumps each counter only where the seats fit
 * (`capacity - reserved - held >= q`) and inserts the reservation or hold; a change flips the
 * status only from the statuses it may (a confirm only before the due time) and moves the seats.
 * Locks are held for that one statement. When the function changed nothing, it returns the
 * facts, and the aggregate's own `decide` turns them into the same answer the other designs give.
 * Holds are expired by a set-based sweep, `crud_atomic_expire_due_holds`.
 */
export const crudAtomicBookings = (sql: Sql, options: { clock?: () => Date } = {}): CrudBookings => {
  const { clock = () => new Date() } = options;
  const facts = sql`
    existing_seats as "existingSeats", existing_status as "existingStatus",
    existing_expires_at as "existingExpiresAt", counters, conference_exists as "conferenceExists"`;

  /** A reservation, or a hold until its due time (the domain's), all or nothing. */
  const take = async (command: ReserveSeats | HoldSeats, attempt = 1): Promise<BookingResult<Reservation>> => {
    const { conferenceId, reservationId, seats, now } = command;
    const expiresAt = command.type === 'HoldSeats' ? new Date(expiresAtOf(now, command.holdSeconds)) : null;
    const [row] = await sql<({ taken: boolean } & Facts)[]>`
      select taken, ${facts}
      from crud_atomic_take(${conferenceId}, ${reservationId}, ${sql.json(seats)}, ${new Date(now)}, ${expiresAt})`;
    if (!row) throw new Error('crud_atomic_take returned no row');
    const existing = existingOf(row);
    if (row.taken) return { kind: 'ok', created: true, value: reservationAnswer(command, existing) };
    const decision = decide(stateFrom(conferenceId, row), command, existing);
    if (decision.kind === 'rejected') return decision;
    if (decision.events.length === 0) return acceptedResult(command, existing, []);
    // The seats that were missing when the function tried are there now (a cancel, release or
    // expiry committed in between): try again rather than answer "insufficient" with counters
    // that say otherwise.
    if (attempt < MAX_ATTEMPTS) return take(command, attempt + 1);
    return { kind: 'rejected', rejection: { kind: 'insufficient_seats', remaining: remainingOf(seats, row) } };
  };

  /** A cancel, confirm or release: the status flipped and the seats moved, or the facts judged. */
  const change = async (
    command: CancelReservation | ConfirmReservation | ReleaseHold,
    attempt = 1,
  ): Promise<BookingResult<Reservation>> => {
    const { conferenceId, reservationId, now } = command;
    const writer = CHANGES[command.type];
    const [row] = await sql<({ changed: boolean } & Facts)[]>`
      select changed, ${facts} from ${sql(writer)}(${conferenceId}, ${reservationId}, ${new Date(now)})`;
    if (!row) throw new Error(`${writer} returned no row`);
    const existing = existingOf(row);
    if (row.changed) return { kind: 'ok', created: true, value: reservationAnswer(command, existing) };
    const decision = decide(stateFrom(conferenceId, row), command, existing);
    if (decision.kind === 'rejected') return decision;
    if (decision.events.length === 0) return acceptedResult(command, existing, []);
    // A hold under this id appeared between the function's update and its read of the facts.
    if (attempt < MAX_ATTEMPTS) return change(command, attempt + 1);
    throw new Error(`${writer} left reservation ${reservationId} ${existing.status}`);
  };

  const now = () => clock().toISOString();

  return {
    ...crudConferences(sql, clock),

    reserveSeats: ({ conferenceId, reservationId, seats }) =>
      take({ type: 'ReserveSeats', conferenceId, reservationId, seats, now: now() }),

    holdSeats: ({ conferenceId, reservationId, seats, holdSeconds }) =>
      take({ type: 'HoldSeats', conferenceId, reservationId, seats, holdSeconds, now: now() }),

    cancelReservation: (key) => change({ type: 'CancelReservation', ...key, now: now() }),

    confirmReservation: ({ conferenceId, reservationId }) =>
      change({ type: 'ConfirmReservation', conferenceId, reservationId, now: now() }),

    releaseHold: (key) => change({ type: 'ReleaseHold', ...key, now: now() }),

    /** The sweep: one call expires every pending hold due at `now` and gives its seats back (see the function). */
    async expireDueHolds(at) {
      const expired = await sql<ExpiredHold[]>`
        select expired_conference_id as "conferenceId", expired_reservation_id as "reservationId"
        from crud_atomic_expire_due_holds(${at})`;
      return [...expired];
    },
  };
};

/** The reported counters as the aggregate's state, so `decide` can judge the command. */
const stateFrom = (conferenceId: string, facts: Facts): SeatAvailability =>
  facts.conferenceExists ? stateOf(conferenceId, facts.counters ?? []) : { status: 'absent' };

/** The reported reservation row as what the id names. */
const existingOf = (facts: Facts) =>
  reservationOfRow(
    facts.existingSeats && facts.existingStatus
      ? { seats: facts.existingSeats, status: facts.existingStatus, expiresAt: facts.existingExpiresAt }
      : undefined,
  );

const remainingOf = (seats: SeatQuantity[], facts: Facts) =>
  seats.map(({ seatType, quantity }) => {
    const counter = facts.counters?.find((c) => c.seatType === seatType);
    return {
      seatType,
      requested: quantity,
      remaining: counter ? counter.capacity - counter.reserved - counter.held : 0,
    };
  });
