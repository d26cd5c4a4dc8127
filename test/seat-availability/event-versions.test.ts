import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currentVersionOf,
  decide,
  evolveAll,
  reservationIdOf,
  reservationIdOfCommand,
  reservationOf,
  toSeatAvailabilityEvent,
  toStoredEvent,
  upcast,
  UPCASTERS,
  type SeatAvailabilityEvent,
  type StoredEvent,
} from '../../src/seat-availability/index.js';
import { commandsOf, conferenceArb, stepArb } from '../support/random-commands.js';

const seats = [{ seatType: 'standard', quantity: 2 }];
const sealed = { id: 'a-1', personalData: { iv: 'aXY=', ciphertext: 'Y3Q=', tag: 'dGFn' } };

/**
 * An event as a release before event versions wrote it: version 1, whose SeatsReserved and
 * HoldConfirmed named no attendee. An event that names one has no version-1 form.
 */
const asVersion1 = (event: SeatAvailabilityEvent): StoredEvent => {
  if (event.type !== 'SeatsReserved' && event.type !== 'HoldConfirmed') return { ...event, schemaVersion: 1 };
  const { attendee, ...data } = event.data;
  if (attendee !== null) throw new Error('an event naming an attendee has no version 1');
  return { type: event.type, schemaVersion: 1, data };
};

describe('event versions', () => {
  it('writes SeatsReserved and HoldConfirmed in version 2, the attendee version, and the other events in version 1', () => {
    expect(Object.fromEntries(Object.keys(UPCASTERS).map((type) => [type, currentVersionOf(type as never)]))).toEqual({
      ConferenceCreated: 1,
      SeatsReserved: 2,
      ReservationCancelled: 1,
      SeatsHeld: 1,
      HoldConfirmed: 2,
      HoldReleased: 1,
      HoldExpired: 1,
    });
    const reserved: SeatAvailabilityEvent = {
      type: 'SeatsReserved',
      data: { conferenceId: 'c', reservationId: 'r', seats, reservedAt: 't', attendee: sealed },
    };
    expect(toStoredEvent(reserved)).toEqual({ ...reserved, schemaVersion: 2 });
  });

  it('reads a version-1 SeatsReserved or HoldConfirmed as naming no attendee, and leaves the stored data as it was', () => {
    const stored = { conferenceId: 'c', reservationId: 'r', seats, reservedAt: 't' };
    expect(toSeatAvailabilityEvent({ type: 'SeatsReserved', schemaVersion: 1, data: stored })).toEqual({
      type: 'SeatsReserved',
      data: { ...stored, attendee: null },
    });
    expect(stored).not.toHaveProperty('attendee');
    const confirmed = { conferenceId: 'c', reservationId: 'r', seats, confirmedAt: 't' };
    expect(upcast('HoldConfirmed', 1, confirmed)).toEqual({ ...confirmed, attendee: null });
  });

  it('reads the current version as it is, attendee and all', () => {
    const data = { conferenceId: 'c', reservationId: 'r', seats, reservedAt: 't', attendee: sealed };
    expect(upcast('SeatsReserved', 2, data)).toBe(data);
  });

  it('refuses a version it cannot read: below 1, not whole, or written by a newer release', () => {
    for (const version of [0, -1, 1.5, 3, Number.NaN])
      expect(() => toSeatAvailabilityEvent({ type: 'SeatsReserved', schemaVersion: version, data: {} })).toThrow(
        /SeatsReserved of schema version .*: this release reads versions 1 to 2/,
      );
    expect(() => upcast('SeatsHeld', 2, {})).toThrow(/versions 1 to 1/);
  });

  it('decides every command on events read from version 1 as on the same events written now', () => {
    fc.assert(
      fc.property(
        fc.array(conferenceArb, { minLength: 1, maxLength: 3 }),
        // Version 1 named no attendees, so neither does this history.
        fc.array(
          stepArb(6).map((step) => ({ ...step, namesAttendee: false })),
          { maxLength: 80 },
        ),
        (conferences, steps) => {
          const ids = conferences.map((_, i) => `c${i}`);
          const now = new Map<string, SeatAvailabilityEvent[]>(ids.map((id) => [id, []]));
          const older = new Map<string, SeatAvailabilityEvent[]>(ids.map((id) => [id, []]));
          for (const command of commandsOf(ids, conferences, steps)) {
            const decision = decideOn(now.get(command.conferenceId)!, command);
            expect(decideOn(older.get(command.conferenceId)!, command)).toEqual(decision);
            if (decision.kind === 'rejected') continue;
            now.get(command.conferenceId)!.push(...decision.events);
            older
              .get(command.conferenceId)!
              .push(...decision.events.map((event) => toSeatAvailabilityEvent(asVersion1(event))));
          }
          expect(older).toEqual(now);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** What the handlers decide on: the stream's state, and the command's reservation from its own events. */
const decideOn = (stream: SeatAvailabilityEvent[], command: Parameters<typeof decide>[1]) => {
  const id = reservationIdOfCommand(command);
  const own = stream.filter((event) => id !== undefined && reservationIdOf(event) === id);
  return decide(evolveAll(stream), command, reservationOf(own));
};
