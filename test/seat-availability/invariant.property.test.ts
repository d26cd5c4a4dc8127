import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availability,
  decide,
  evolve,
  initialState,
  reservationIdOf,
  reservationIdOfCommand,
  reservationOf,
  reservationsOf,
  type CancelReservation,
  type Decision,
  type Reservation,
  type ReserveSeats,
  type SeatAvailability,
  type SeatAvailabilityCommand,
  type SeatAvailabilityEvent,
  type SeatQuantity,
} from '../../src/seat-availability/index.js';

const now = '2026-11-21T10:00:00.000Z';
const seatTypes = ['standard', 'vip', 'student'];

const seatsArb = fc
  .uniqueArray(fc.constantFrom(...seatTypes, 'unknown'), { minLength: 1, maxLength: 3 })
  .chain((types) =>
    fc.tuple(...types.map((seatType) => fc.integer({ min: 1, max: 100 }).map((quantity) => ({ seatType, quantity })))),
  );

const reservationIdArb = fc.integer({ min: 1, max: 30 }).map((n) => `r${n}`);

const reserveOrCancelArb: fc.Arbitrary<ReserveSeats | CancelReservation> = fc.oneof(
  fc.record({
    type: fc.constant('ReserveSeats' as const),
    conferenceId: fc.constant('c'),
    reservationId: reservationIdArb,
    seats: seatsArb,
    now: fc.constant(now),
  }),
  fc.record({
    type: fc.constant('CancelReservation' as const),
    conferenceId: fc.constant('c'),
    reservationId: reservationIdArb,
    now: fc.constant(now),
  }),
);

/** Any time in the twenty minutes after `now`: holds last up to ten, so commands fall before and after their due times. */
const timeArb = fc
  .integer({ min: 0, max: 1200 })
  .map((seconds) => new Date(Date.parse(now) + seconds * 1000).toISOString());

/** Few ids, so that most commands find a reservation or a hold of their id, at any status. */
const fewIdsArb = fc.integer({ min: 1, max: 8 }).map((n) => `r${n}`);

/** Every command but CreateConference, at random times. */
const commandArb: fc.Arbitrary<SeatAvailabilityCommand> = fc.oneof(
  fc.record({
    type: fc.constant('ReserveSeats' as const),
    conferenceId: fc.constant('c'),
    reservationId: fewIdsArb,
    seats: seatsArb,
    now: timeArb,
  }),
  fc.record({
    type: fc.constant('HoldSeats' as const),
    conferenceId: fc.constant('c'),
    reservationId: fewIdsArb,
    seats: seatsArb,
    holdSeconds: fc.integer({ min: 1, max: 600 }),
    now: timeArb,
  }),
  ...(['CancelReservation', 'ConfirmReservation', 'ReleaseHold', 'ExpireHold'] as const).map((type) =>
    fc.record({
      type: fc.constant(type),
      conferenceId: fc.constant('c'),
      reservationId: fewIdsArb,
      now: timeArb,
    }),
  ),
);

/** The seats of one type that the reservations at these statuses hold, each folded from its own events. */
const seatsAt = (reservations: Map<string, Reservation>, seatType: string, statuses: string[]): number => {
  let sum = 0;
  for (const reservation of reservations.values()) {
    if (reservation.status === 'absent' || !statuses.includes(reservation.status)) continue;
    for (const seat of reservation.seats) if (seat.seatType === seatType) sum += seat.quantity;
  }
  return sum;
};

/** What the handlers hand to `decide`: the command's reservation, folded from its own events. */
const ownReservation = (history: SeatAvailabilityEvent[], command: SeatAvailabilityCommand) => {
  const reservationId = reservationIdOfCommand(command);
  return reservationOf(
    history.filter((event) => reservationId !== undefined && reservationIdOf(event) === reservationId),
  );
};

/**
 * The reference model: the decider as it was before the state was made lean, holding every
 * reservation ever made in its state. The lean decider must decide exactly as it does.
 */
type Reference = {
  counts: Map<string, { capacity: number; reserved: number }>;
  reservations: Map<string, { seats: SeatQuantity[]; status: 'reserved' | 'cancelled' }>;
};
const sameSeats = (a: SeatQuantity[], b: SeatQuantity[]) =>
  a.length === b.length && a.every((x) => b.some((y) => y.seatType === x.seatType && y.quantity === x.quantity));
const referenceDecide = (model: Reference, command: ReserveSeats | CancelReservation): Decision => {
  const existing = model.reservations.get(command.reservationId);
  if (command.type === 'CancelReservation') {
    if (!existing)
      return { kind: 'rejected', rejection: { kind: 'reservation_not_found', reservationId: command.reservationId } };
    if (existing.status === 'cancelled') return { kind: 'accepted', events: [] };
    const data = { conferenceId: 'c', reservationId: command.reservationId, seats: existing.seats, cancelledAt: now };
    return { kind: 'accepted', events: [{ type: 'ReservationCancelled', data }] };
  }
  const { reservationId, seats } = command;
  if (existing?.status === 'cancelled') {
    return { kind: 'rejected', rejection: { kind: 'reservation_conflict', reservationId, reason: 'cancelled' } };
  }
  if (existing) {
    return sameSeats(existing.seats, seats)
      ? { kind: 'accepted', events: [] }
      : { kind: 'rejected', rejection: { kind: 'reservation_conflict', reservationId, reason: 'different_seats' } };
  }
  const unknown = seats.filter((s) => !model.counts.has(s.seatType)).map((s) => s.seatType);
  if (unknown.length > 0) return { kind: 'rejected', rejection: { kind: 'unknown_seat_type', seatTypes: unknown } };
  const remaining = seats.map(({ seatType, quantity }) => {
    const count = model.counts.get(seatType)!;
    return { seatType, requested: quantity, remaining: count.capacity - count.reserved };
  });
  if (remaining.some((r) => r.requested > r.remaining))
    return { kind: 'rejected', rejection: { kind: 'insufficient_seats', remaining } };
  return {
    kind: 'accepted',
    events: [
      { type: 'SeatsReserved', data: { conferenceId: 'c', reservationId, seats, reservedAt: now, attendee: null } },
    ],
  };
};
const referenceEvolve = (model: Reference, event: SeatAvailabilityEvent) => {
  if (event.type === 'ConferenceCreated') return;
  const sign = event.type === 'SeatsReserved' ? 1 : -1;
  for (const { seatType, quantity } of event.data.seats) model.counts.get(seatType)!.reserved += sign * quantity;
  model.reservations.set(event.data.reservationId, {
    seats: event.data.seats,
    status: event.type === 'SeatsReserved' ? 'reserved' : 'cancelled',
  });
};

/** Reserves that repeat earlier ones with the same seats, so idempotent repeats are common too. */
const historyArb = fc.array(fc.tuple(reserveOrCancelArb, fc.boolean()), { maxLength: 200 });

const capacitiesArb = fc.tuple(...seatTypes.map(() => fc.integer({ min: 0, max: 300 })));

describe('SeatAvailability invariant', () => {
  it('never takes seats below zero or beyond capacity, and counts what the reservations hold, whatever commands arrive when', () => {
    fc.assert(
      fc.property(capacitiesArb, fc.array(commandArb, { maxLength: 200, size: 'medium' }), (capacities, commands) => {
        let state: SeatAvailability = initialState();
        const create: SeatAvailabilityCommand = {
          type: 'CreateConference',
          conferenceId: 'c',
          name: 'C',
          seatTypes: seatTypes.map((type, i) => ({ type, capacity: capacities[i] ?? 0 })),
          now,
        };
        const history: SeatAvailabilityEvent[] = [];
        for (const command of [create, ...commands]) {
          const decision = decide(state, command, ownReservation(history, command));
          if (decision.kind === 'rejected') continue;
          for (const event of decision.events) {
            state = evolve(state, event);
            history.push(event);
          }
          if (state.status !== 'open') throw new Error('conference should be open');
          const reservations = reservationsOf(history);
          for (const seat of availability(state)) {
            expect(seat.reserved).toBeGreaterThanOrEqual(0);
            expect(seat.held).toBeGreaterThanOrEqual(0);
            expect(seat.reserved + seat.held).toBeLessThanOrEqual(seat.capacity);
            expect(seat.remaining).toBe(seat.capacity - seat.reserved - seat.held);
            // The counts agree with the reservations, each folded from its own events.
            expect(seat.held).toBe(seatsAt(reservations, seat.type, ['held']));
            expect(seat.reserved).toBe(seatsAt(reservations, seat.type, ['reserved', 'confirmed']));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decides exactly as a model that keeps every reservation, over random reserves, repeats and cancels', () => {
    fc.assert(
      fc.property(capacitiesArb, historyArb, (capacities, steps) => {
        const seatTypeCapacities = seatTypes.map((type, i) => ({ type, capacity: capacities[i] ?? 0 }));
        const created: SeatAvailabilityEvent = {
          type: 'ConferenceCreated',
          data: { conferenceId: 'c', name: 'C', seatTypes: seatTypeCapacities, createdAt: now },
        };
        let state = evolve(initialState(), created);
        const history: SeatAvailabilityEvent[] = [created];
        const model: Reference = {
          counts: new Map(seatTypeCapacities.map(({ type, capacity }) => [type, { capacity, reserved: 0 }])),
          reservations: new Map(),
        };
        const seatsOf = new Map<string, SeatQuantity[]>();
        for (const [generated, repeat] of steps) {
          // Half the reserves of a known id ask for the very same seats: an idempotent repeat.
          const known = generated.type === 'ReserveSeats' ? seatsOf.get(generated.reservationId) : undefined;
          const command =
            repeat && known && generated.type === 'ReserveSeats' ? { ...generated, seats: known } : generated;
          const lean = decide(state, command, ownReservation(history, command));
          expect(lean).toEqual(referenceDecide(model, command));
          if (lean.kind === 'rejected') continue;
          for (const event of lean.events) {
            state = evolve(state, event);
            history.push(event);
            referenceEvolve(model, event);
            if (event.type === 'SeatsReserved') seatsOf.set(event.data.reservationId, event.data.seats);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
