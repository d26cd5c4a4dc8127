import { describe, expect, it } from 'vitest';
import {
  STORED_EVENT_NAMES,
  toSeatAvailabilityEvent,
  toStoredEvent,
  type SeatAvailabilityEvent,
} from '../../src/seat-availability/index.js';

const seats = [{ seatType: 'standard', quantity: 2 }];
const moved = { conferenceId: 'c', reservationId: 'r1', seats };

/** One event of every type that moves seats, as stored. */
const seatMovingEvents: Exclude<SeatAvailabilityEvent, { type: 'ConferenceCreated' }>[] = [
  { type: 'SeatsReserved', data: { ...moved, reservedAt: 'now', attendee: null } },
  { type: 'ReservationCancelled', data: { ...moved, cancelledAt: 'now' } },
  { type: 'SeatsHeld', data: { ...moved, heldAt: 'now', expiresAt: 'later' } },
  { type: 'HoldConfirmed', data: { ...moved, confirmedAt: 'now', attendee: null } },
  { type: 'HoldReleased', data: { ...moved, releasedAt: 'now' } },
  { type: 'HoldExpired', data: { ...moved, expiresAt: 'then', expiredAt: 'now' } },
];

describe('stored events', () => {
  it.each(seatMovingEvents)('reads a stored $type of the current version as the domain event it names', (event) => {
    expect(toSeatAvailabilityEvent(toStoredEvent(event))).toEqual(event);
  });

  it('refuses an event type the domain does not know, also one named like an object property', () => {
    expect(() => toSeatAvailabilityEvent({ type: 'SeatsBooked', schemaVersion: 1, data: {} })).toThrow(
      /unknown event type SeatsBooked/,
    );
    expect(() => toSeatAvailabilityEvent({ type: 'toString', schemaVersion: 1, data: {} })).toThrow(
      /unknown event type toString/,
    );
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
        [
          ...Object.values(STORED_EVENT_NAMES.seatsChanged),
          ...Object.values(STORED_EVENT_NAMES.times[type]),
          ...('attendee' in data ? ['attendee'] : []),
        ].sort(),
      );
  });
});
