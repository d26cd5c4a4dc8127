import type postgres from 'postgres';
import type { BookingResult, Reservation, ReservationKey } from '../bookings.js';
import type { Sql } from '../database/connect.js';
import {
  decide,
  evolve,
  type CancelReservation,
  type ConfirmReservation,
  type ExpireHold,
  type HoldSeats,
  type OpenConference,
  type Rejection,
  type ReleaseHold,
  type ReserveSeats,
  type Reservation as SeatReservation,
  type SeatAvailability,
  type SeatAvailabilityEvent,
} from '../seat-availability/index.js';
import {
  acceptedResult,
  crudConferences,
  reservationOfRow,
  stateOf,
  type CounterRow,
  type CrudBookings,
  type ExpiredHold,
  type ReservationRow,
} from './crud-conferences.js';

export type CrudOptions = {
  clock?: () => Date;
  /**
   * Never set this in a real deployment: it reads the counters without `FOR UPDATE` and writes
   * back absolute values, the classic lost update. It exists only so the tests can show that
   * the load-test audit catches a design that loses or oversells seats.
   */
  unsafeWithoutRowLocks?: boolean;
};

/** A take of seats under a new reservation id: a one-step reservation or a hold. */
type Take = ReserveSeats | HoldSeats;

/** A change of what a reservation id names: its seats given back, or moved from held to reserved. */
type Change = CancelReservation | ConfirmReservation | ReleaseHold | ExpireHold;

/** What a command did: rejected, or accepted with the events it decided (none for a repeat). */
type Applied =
  | { kind: 'rejected'; rejection: Rejection }
  | { kind: 'accepted'; before: SeatReservation; events: SeatAvailabilityEvent[] };

/** Due holds one read of the sweep finds; it reads again until fewer are due. */
const SWEEP_BATCH = 500;

/**
 * The naive counter-update design, written as a competent engineer would: one transaction per
 * command that locks the rows it needs (`SELECT ... FOR UPDATE`), checks, updates the counters
 * and writes the reservation. The seat rules are the aggregate's own `decide`, applied to the
 * locked rows, and the counters move as its `evolve` moves them, so every design answers every
 * request identically. Locks are taken in one order everywhere: a command on an existing
 * reservation locks its row first, then counter rows in seat-type order (a take locks only the
 * counters and inserts a new row), so no two commands ever wait for each other in a circle.
 */
export const crudBookings = (sql: Sql, options: CrudOptions = {}): CrudBookings => {
  const { clock = () => new Date(), unsafeWithoutRowLocks = false } = options;
  const lock = unsafeWithoutRowLocks ? sql`` : sql`for update`;

  const lockCounters = (tx: postgres.TransactionSql, conferenceId: string, seatTypes: string[]) =>
    tx<CounterRow[]>`
      select seat_type as "seatType", capacity, reserved, held from crud_seat_counters
      where conference_id = ${conferenceId} and seat_type = any(${seatTypes})
      order by seat_type ${lock}`;

  const conferenceExists = async (tx: postgres.TransactionSql, conferenceId: string) =>
    (await tx`select 1 from crud_conferences where conference_id = ${conferenceId}`).length > 0;

  const readReservation = async (
    tx: postgres.TransactionSql,
    { conferenceId, reservationId }: ReservationKey,
    forUpdate: boolean,
  ) => {
    const [row] = await tx<ReservationRow[]>`
      select seats, status, expires_at as "expiresAt" from crud_reservations
      where conference_id = ${conferenceId} and reservation_id = ${reservationId}
      ${forUpdate ? tx`for update` : tx``}`;
    return row;
  };

  /** Moves the locked counters as the event says; `lostUpdate` writes the unlocked read's result instead. */
  const moveCounters = (tx: postgres.TransactionSql, state: OpenConference, event: Moving, lostUpdate = false) => tx`
    update crud_seat_counters as c
    set ${lostUpdate ? tx`reserved = x.reserved_after, held = x.held_after` : tx`reserved = c.reserved + x.reserved, held = c.held + x.held`}
    from jsonb_to_recordset(${tx.json(counterMoves(state, event))})
      as x(seat_type text, reserved int, held int, reserved_after int, held_after int)
    where c.conference_id = ${event.data.conferenceId} and c.seat_type = x.seat_type`;

  /** A reservation or a hold: the counter rows locked, judged, bumped, and the reservation inserted. */
  const take = (command: Take): Promise<Applied> =>
    sql
      .begin(async (tx): Promise<Applied> => {
        const { conferenceId } = command;
        const counters = await lockCounters(
          tx,
          conferenceId,
          command.seats.map((s) => s.seatType),
        );
        if (counters.length === 0 && !(await conferenceExists(tx, conferenceId))) {
          return { kind: 'rejected', rejection: { kind: 'conference_not_found', conferenceId } };
        }
        const before = reservationOfRow(await readReservation(tx, command, false));
        const state = stateOf(conferenceId, counters);
        // The seat rules are the aggregate's: the reservation row is what the id names so far.
        const decision = decide(state, command, before);
        if (decision.kind === 'rejected') return decision;
        for (const event of decision.events.map(moving)) {
          const { status, takenAt, expiresAt } = takenRow(event);
          const { reservationId, seats } = event.data;
          // One statement: bump the locked counters and record the reservation. (The unsafe variant
          // writes the value it computed from an unlocked read instead: the lost update.)
          const inserted = await tx`
            with bumped as (${moveCounters(tx, state, event, unsafeWithoutRowLocks)})
            insert into crud_reservations (conference_id, reservation_id, seats, status, reserved_at, expires_at)
            values (${conferenceId}, ${reservationId}, ${tx.json(seats)}, ${status}, ${takenAt}, ${expiresAt})
            on conflict do nothing
            returning 1`;
          if (inserted.length === 0) throw new ReservationRaceError();
        }
        return { kind: 'accepted', before, events: decision.events };
      })
      .catch(async (error: unknown) => {
        // Two first requests with the same new id but different seat types lock different rows
        // and both try to insert; the loser runs again and now sees the winner's reservation.
        if (error instanceof ReservationRaceError) return take(command);
        throw error;
      });

  /** A cancel, confirm, release or expiry: the reservation row locked, then its counters, judged, both written. */
  const change = (command: Change): Promise<Applied> =>
    sql.begin(async (tx): Promise<Applied> => {
      const { conferenceId } = command;
      const row = await readReservation(tx, command, true);
      let state: SeatAvailability;
      if (row) {
        state = stateOf(
          conferenceId,
          await lockCounters(
            tx,
            conferenceId,
            row.seats.map((s) => s.seatType),
          ),
        );
      } else {
        state = (await conferenceExists(tx, conferenceId)) ? stateOf(conferenceId, []) : { status: 'absent' };
      }
      const before = reservationOfRow(row);
      const decision = decide(state, command, before);
      if (decision.kind === 'rejected') return decision;
      for (const event of decision.events.map(moving)) {
        if (state.status !== 'open') throw new Error(`${event.type} at a conference that does not exist`);
        const { status, at, time } = statusChange(event);
        await tx`
          with moved as (${moveCounters(tx, state, event)})
          update crud_reservations set ${tx({ status, [at]: time })}
          where conference_id = ${conferenceId} and reservation_id = ${command.reservationId}`;
      }
      return { kind: 'accepted', before, events: decision.events };
    });

  const answer = (key: ReservationKey, applied: Applied): BookingResult<Reservation> =>
    applied.kind === 'rejected' ? applied : acceptedResult(key, applied.before, applied.events);

  const now = () => clock().toISOString();

  return {
    ...crudConferences(sql, clock),

    reserveSeats: async ({ conferenceId, reservationId, seats }) =>
      answer(
        { conferenceId, reservationId },
        await take({ type: 'ReserveSeats', conferenceId, reservationId, seats, now: now() }),
      ),

    holdSeats: async ({ conferenceId, reservationId, seats, holdSeconds }) =>
      answer(
        { conferenceId, reservationId },
        await take({ type: 'HoldSeats', conferenceId, reservationId, seats, holdSeconds, now: now() }),
      ),

    cancelReservation: async (key) => answer(key, await change({ type: 'CancelReservation', ...key, now: now() })),

    confirmReservation: async ({ conferenceId, reservationId }) => {
      const key = { conferenceId, reservationId };
      return answer(key, await change({ type: 'ConfirmReservation', ...key, now: now() }));
    },

    releaseHold: async (key) => answer(key, await change({ type: 'ReleaseHold', ...key, now: now() })),

    /**
     * The sweep: the pending holds due at `now` (found by the partial index on them), each expired
     * in a transaction of its own under the same locks as a release. The locked row is judged
     * again, so a hold another sweep (or a confirm, or a release) got to first is left as it is:
     * however many sweeps run, a hold expires once.
     */
    async expireDueHolds(at) {
      const expired: ExpiredHold[] = [];
      for (;;) {
        const due = await sql<ExpiredHold[]>`
          select conference_id as "conferenceId", reservation_id as "reservationId" from crud_reservations
          where status = 'held' and expires_at <= ${at}
          order by expires_at limit ${SWEEP_BATCH}`;
        for (const key of due) {
          const applied = await change({ type: 'ExpireHold', ...key, now: at.toISOString() });
          if (applied.kind === 'accepted' && applied.events.length > 0) expired.push(key);
        }
        if (due.length < SWEEP_BATCH) return expired;
      }
    },
  };
};

/** The events that move seats between the counts: every event a command on seats decides. */
type Moving = Exclude<SeatAvailabilityEvent, { type: 'ConferenceCreated' }>;

const moving = (event: SeatAvailabilityEvent): Moving => {
  if (event.type === 'ConferenceCreated') throw new Error('a command on seats decided ConferenceCreated');
  return event;
};

/**
 * How an event moves each counter it touches, as the domain's `evolve` moves it: by how much
 * (what the safe design adds), and to what (what the unsafe variant writes).
 */
const counterMoves = (state: OpenConference, event: Moving) => {
  const after = evolve(state, event);
  if (after.status !== 'open') throw new Error('an event left the conference');
  return event.data.seats.map(({ seatType }) => {
    const was = state.seatTypes.get(seatType);
    const is = after.seatTypes.get(seatType);
    if (!was || !is) throw new Error(`the counter of ${seatType} was not read`);
    return {
      seat_type: seatType,
      reserved: is.reserved - was.reserved,
      held: is.held - was.held,
      reserved_after: is.reserved,
      held_after: is.held,
    };
  });
};

/** What a take records: a one-step reservation, or a hold with its due time. */
const takenRow = (event: Moving): { status: string; takenAt: Date; expiresAt: Date | null } => {
  switch (event.type) {
    case 'SeatsReserved':
      return { status: 'reserved', takenAt: new Date(event.data.reservedAt), expiresAt: null };
    case 'SeatsHeld':
      return { status: 'held', takenAt: new Date(event.data.heldAt), expiresAt: new Date(event.data.expiresAt) };
    default:
      throw new Error(`a take decided ${event.type}`);
  }
};

/** The status a change records, and in which column its time. */
const statusChange = (event: Moving): { status: string; at: string; time: Date } => {
  switch (event.type) {
    case 'ReservationCancelled':
      return { status: 'cancelled', at: 'cancelled_at', time: new Date(event.data.cancelledAt) };
    case 'HoldConfirmed':
      return { status: 'confirmed', at: 'confirmed_at', time: new Date(event.data.confirmedAt) };
    case 'HoldReleased':
      return { status: 'released', at: 'released_at', time: new Date(event.data.releasedAt) };
    case 'HoldExpired':
      return { status: 'expired', at: 'expired_at', time: new Date(event.data.expiredAt) };
    case 'SeatsReserved':
    case 'SeatsHeld':
      throw new Error(`a change decided ${event.type}`);
    default: {
      const unknown: never = event;
      throw new Error(`Unknown event ${JSON.stringify(unknown)}`);
    }
  }
};

class ReservationRaceError extends Error {
  override readonly name = 'ReservationRaceError';
}
