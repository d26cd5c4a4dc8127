import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availability,
  decide,
  evolve,
  initialState,
  type SeatAvailability,
  type SeatAvailabilityCommand,
} from '../../src/seat-availability/index.js';

const now = '2026-11-21T10:00:00.000Z';
const seatTypes = ['standard', 'vip', 'student'];

const seatsArb = fc
  .uniqueArray(fc.constantFrom(...seatTypes, 'unknown'), { minLength: 1, maxLength: 3 })
  .chain((types) =>
    fc.tuple(...types.map((seatType) => fc.integer({ min: 1, max: 100 }).map((quantity) => ({ seatType, quantity })))),
  );

const commandArb: fc.Arbitrary<SeatAvailabilityCommand> = fc.oneof(
  fc.record({
    type: fc.constant('ReserveSeats' as const),
    conferenceId: fc.constant('c'),
    reservationId: fc.integer({ min: 1, max: 30 }).map((n) => `r${n}`),
    seats: seatsArb,
    now: fc.constant(now),
  }),
  fc.record({
    type: fc.constant('CancelReservation' as const),
    conferenceId: fc.constant('c'),
    reservationId: fc.integer({ min: 1, max: 30 }).map((n) => `r${n}`),
    now: fc.constant(now),
  }),
);

const capacitiesArb = fc.tuple(...seatTypes.map(() => fc.integer({ min: 0, max: 300 })));

describe('SeatAvailability invariant', () => {
  it('never reserves below zero or above capacity, whatever reserves and cancels arrive', () => {
    fc.assert(
      fc.property(capacitiesArb, fc.array(commandArb, { maxLength: 200 }), (capacities, commands) => {
        let state: SeatAvailability = initialState();
        const create: SeatAvailabilityCommand = {
          type: 'CreateConference',
          conferenceId: 'c',
          name: 'C',
          seatTypes: seatTypes.map((type, i) => ({ type, capacity: capacities[i] ?? 0 })),
          now,
        };
        const ledger = new Map<string, number>(); // seats held per type by live reservations, recomputed independently
        for (const command of [create, ...commands]) {
          const decision = decide(state, command);
          if (decision.kind === 'rejected') continue;
          for (const event of decision.events) {
            state = evolve(state, event);
            if (event.type === 'SeatsReserved' || event.type === 'ReservationCancelled') {
              const sign = event.type === 'SeatsReserved' ? 1 : -1;
              for (const { seatType, quantity } of event.data.seats) {
                ledger.set(seatType, (ledger.get(seatType) ?? 0) + sign * quantity);
              }
            }
          }
          if (state.status !== 'open') throw new Error('conference should be open');
          for (const seat of availability(state)) {
            expect(seat.reserved).toBeGreaterThanOrEqual(0);
            expect(seat.reserved).toBeLessThanOrEqual(seat.capacity);
            expect(seat.remaining).toBe(seat.capacity - seat.reserved);
            expect(seat.reserved).toBe(ledger.get(seat.type) ?? 0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
