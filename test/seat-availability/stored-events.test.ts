import { describe, expect, it } from 'vitest';
import { toSeatAvailabilityEvent } from '../../src/seat-availability/index.js';

describe('stored events', () => {
  it('reads a stored event of a known type as the domain event it names', () => {
    const data = { conferenceId: 'c', reservationId: 'r1', seats: [{ seatType: 'standard', quantity: 2 }] };
    expect(toSeatAvailabilityEvent({ type: 'SeatsReserved', data: { ...data, reservedAt: 'now' } })).toEqual({
      type: 'SeatsReserved',
      data: { ...data, reservedAt: 'now' },
    });
  });

  it('refuses an event type the domain does not know, also one named like an object property', () => {
    expect(() => toSeatAvailabilityEvent({ type: 'SeatsBooked', data: {} })).toThrow(/unknown event type SeatsBooked/);
    expect(() => toSeatAvailabilityEvent({ type: 'toString', data: {} })).toThrow(/unknown event type toString/);
  });
});
