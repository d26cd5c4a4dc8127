import { describe, expect, it } from 'vitest';
import {
  STORED_EVENT_NAMES,
  toSeatAvailabilityEvent,
  type SeatAvailabilityEvent,
} from '../../src/seat-availability/index.js';

const seats = [{ seatType: 'standard', quantity: 2 }];
const moved = { conferenceId: 'c', reservationId: 'r1', seats };

/** One event of every type that moves seats, as stored. */
const seatMovingEvents: Exclude<SeatAvailabilityEvent, { type: 'ConferenceCreated' }>[] = [
  { type: 'SeatsReserved', data: { ...moved, reservedAt: 'now' } },
  { type: 'ReservationCancelled', data: { ...moved, cancelledAt: 'now' } },
  { type: 'SeatsHeld', data: { ...moved, heldAt: 'now', expiresAt: 'later' } },
  { type: 'HoldConfirmed', data: { ...moved, confirmedAt: 'now' } },
  { type: 'HoldReleased', data: { ...moved, releasedAt: 'now' } },
  { type: 'HoldExpired', data: { ...moved, expiresAt: 'then', expiredAt: 'now' } },
];

describe('stored events', () => {
  it.each(seatMovingEvents)('reads a stored $type as the domain event it names', ({ type, data }) => {
    expect(toSeatAvailabilityEvent({ type, data })).toEqual({ type, data });
  });

  it('refuses an event type the domain does not know, also one named like an object property', () => {
    expect(() => toSeatAvailabilityEvent({ type: 'SeatsBooked', data: {} })).toThrow(/unknown event type SeatsBooked/);
    expect(() => toSeatAvailabilityEvent({ type: 'toString', data: {} })).toThrow(/unknown event type toString/);
  });

  it('names for the SQL fold every event type, and fields that every event moving seats has', () => {
    expect(Object.keys(STORED_EVENT_NAMES.eventType).sort()).toEqual(
      ['ConferenceCreated', ...seatMovingEvents.map((event) => event.type)].sort(),
    );
    for (const { data } of seatMovingEvents) {
      expect(Object.keys(data)).toEqual(expect.arrayContaining(Object.values(STORED_EVENT_NAMES.seatsChanged)));
      for (const seat of data.seats)
        expect(Object.keys(seat).sort()).toEqual(Object.values(STORED_EVENT_NAMES.seatQuantity).sort());
    }
  });

  it('names for the SQL the times of each event moving seats: its fields besides those every such event has', () => {
    for (const { type, data } of seatMovingEvents)
      expect(Object.keys(data).sort()).toEqual(
        [...Object.values(STORED_EVENT_NAMES.seatsChanged), ...Object.values(STORED_EVENT_NAMES.times[type])].sort(),
      );
  });
});
