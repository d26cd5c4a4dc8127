import { describe, expect, it } from 'vitest';
import {
  availability,
  decide,
  evolveAll,
  reservationIdOf,
  reservationIdOfCommand,
  reservationOf,
  type ConflictReason,
  type SeatAvailabilityCommand,
  type SeatAvailabilityEvent,
  type SeatQuantity,
} from '../../src/seat-availability/index.js';
import {
  accepted,
  cancel,
  cancelled,
  conferenceId,
  created,
  decideOn,
  now,
  rejected,
  reserve,
  reserved,
  type Case,
} from './given-when-then.js';

/** A hold taken at `now` for ten minutes, and times around its due time. */
const holdSeconds = 600;
const due = '2026-11-21T10:10:00.000Z';
const justBefore = '2026-11-21T10:09:59.999Z';
const later = '2026-11-21T10:15:00.000Z';

const held = (reservationId: string, seats: SeatQuantity[], expiresAt = due): SeatAvailabilityEvent => ({
  type: 'SeatsHeld',
  data: { conferenceId, reservationId, seats, heldAt: now, expiresAt },
});
const confirmed = (reservationId: string, seats: SeatQuantity[], at = now): SeatAvailabilityEvent => ({
  type: 'HoldConfirmed',
  data: { conferenceId, reservationId, seats, confirmedAt: at, attendee: null },
});
const released = (reservationId: string, seats: SeatQuantity[], at = now): SeatAvailabilityEvent => ({
  type: 'HoldReleased',
  data: { conferenceId, reservationId, seats, releasedAt: at },
});
const expired = (reservationId: string, seats: SeatQuantity[], at = due): SeatAvailabilityEvent => ({
  type: 'HoldExpired',
  data: { conferenceId, reservationId, seats, expiresAt: due, expiredAt: at },
});

const hold = (
  reservationId: string,
  seats: SeatQuantity[],
  at = now,
  seconds = holdSeconds,
): SeatAvailabilityCommand => ({
  type: 'HoldSeats',
  conferenceId,
  reservationId,
  seats,
  holdSeconds: seconds,
  now: at,
});
const confirm = (reservationId: string, at = now): SeatAvailabilityCommand => ({
  type: 'ConfirmReservation',
  conferenceId,
  reservationId,
  now: at,
});
const release = (reservationId: string, at = now): SeatAvailabilityCommand => ({
  type: 'ReleaseHold',
  conferenceId,
  reservationId,
  now: at,
});
const expire = (reservationId: string, at = due): SeatAvailabilityCommand => ({
  type: 'ExpireHold',
  conferenceId,
  reservationId,
  now: at,
});

const vip2 = [{ seatType: 'vip', quantity: 2 }];
const vip1 = [{ seatType: 'vip', quantity: 1 }];
const standard2 = [{ seatType: 'standard', quantity: 2 }];
const conflict = (reason: ConflictReason) => rejected({ kind: 'reservation_conflict', reservationId: 'h1', reason });
const holdNotFound = (reservationId = 'h1') => rejected({ kind: 'hold_not_found', reservationId });
const holdExpired = rejected({ kind: 'hold_expired', reservationId: 'h1', expiresAt: due });
const noConference = rejected({ kind: 'conference_not_found', conferenceId });

const holdSeatsCases: Case[] = [
  {
    rule: 'holds seats until holdSeconds after now',
    given: [created],
    when: hold('h1', vip2),
    then: accepted(held('h1', vip2)),
  },
  {
    rule: 'computes the due time from a now written in any offset, as a UTC ISO time',
    given: [created],
    when: hold('h1', vip2, '2026-11-21T11:00:00+01:00', 90),
    then: accepted({
      type: 'SeatsHeld',
      data: {
        conferenceId,
        reservationId: 'h1',
        seats: vip2,
        heldAt: '2026-11-21T11:00:00+01:00',
        expiresAt: '2026-11-21T10:01:30.000Z',
      },
    }),
  },
  {
    rule: 'rejects holding a seat type the conference does not have',
    given: [created],
    when: hold('h1', [{ seatType: 'balcony', quantity: 1 }, ...vip1]),
    then: rejected({ kind: 'unknown_seat_type', seatTypes: ['balcony'] }),
  },
  {
    rule: 'rejects a hold that exceeds the seats neither reserved nor held, all or nothing',
    given: [created, held('h0', vip1), reserved('r1', vip1)],
    when: hold('h1', [...standard2, ...vip1]),
    then: rejected({
      kind: 'insufficient_seats',
      remaining: [
        { seatType: 'standard', requested: 2, remaining: 10 },
        { seatType: 'vip', requested: 1, remaining: 0 },
      ],
    }),
  },
  {
    rule: 'rejects a reservation of seats that are held',
    given: [created, held('h0', vip2)],
    when: reserve('r1', vip1),
    then: rejected({ kind: 'insufficient_seats', remaining: [{ seatType: 'vip', requested: 1, remaining: 0 }] }),
  },
  {
    rule: 'rejects holding at a conference that does not exist',
    given: [],
    when: hold('h1', vip1),
    then: noConference,
  },
  {
    rule: 'treats a repeated hold with the same seats as already done while it is held',
    given: [created, held('h1', vip2)],
    when: hold('h1', vip2, justBefore),
    then: accepted(),
  },
  {
    rule: 'treats a repeated hold as already done after it was confirmed',
    given: [created, held('h1', vip2), confirmed('h1', vip2)],
    when: hold('h1', vip2),
    then: accepted(),
  },
  {
    rule: 'rejects a hold id reused with other seats while it is held',
    given: [created, held('h1', vip2)],
    when: hold('h1', vip1),
    then: conflict('different_seats'),
  },
  {
    rule: 'rejects a confirmed hold id reused with other seats',
    given: [created, held('h1', vip2), confirmed('h1', vip2)],
    when: hold('h1', vip1),
    then: conflict('different_seats'),
  },
  {
    rule: 'rejects holding under the id of a released hold',
    given: [created, held('h1', vip2), released('h1', vip2)],
    when: hold('h1', vip2),
    then: conflict('released'),
  },
  {
    rule: 'rejects holding under the id of an expired hold',
    given: [created, held('h1', vip2), expired('h1', vip2)],
    when: hold('h1', vip2),
    then: conflict('expired'),
  },
  {
    rule: 'rejects holding under the id of a cancelled reservation',
    given: [created, reserved('h1', vip2), cancelled('h1', vip2)],
    when: hold('h1', vip2),
    then: conflict('cancelled'),
  },
  {
    rule: 'rejects holding under the id of a one-step reservation, even with its seats',
    given: [created, reserved('h1', vip2)],
    when: hold('h1', vip2),
    then: conflict('reserved'),
  },
  {
    rule: 'makes released seats available again',
    given: [created, held('h0', vip2), released('h0', vip2)],
    when: hold('h1', vip2),
    then: accepted(held('h1', vip2)),
  },
  {
    rule: 'makes expired seats available again',
    given: [created, held('h0', vip2), expired('h0', vip2)],
    when: reserve('r1', vip2),
    then: accepted(reserved('r1', vip2)),
  },
];

const reserveOverHoldCases: Case[] = [
  {
    rule: 'rejects reserving under the id of a pending hold, even with its seats',
    given: [created, held('h1', vip2)],
    when: reserve('h1', vip2),
    then: conflict('held'),
  },
  {
    rule: 'rejects reserving under the id of a confirmed hold',
    given: [created, held('h1', vip2), confirmed('h1', vip2)],
    when: reserve('h1', vip2),
    then: conflict('confirmed'),
  },
  {
    rule: 'rejects reserving under the id of a released hold',
    given: [created, held('h1', vip2), released('h1', vip2)],
    when: reserve('h1', vip2),
    then: conflict('released'),
  },
  {
    rule: 'rejects reserving under the id of an expired hold',
    given: [created, held('h1', vip2), expired('h1', vip2)],
    when: reserve('h1', vip2),
    then: conflict('expired'),
  },
];

const confirmCases: Case[] = [
  {
    rule: 'confirms a hold before its due time, making its seats reserved',
    given: [created, held('h1', vip2)],
    when: confirm('h1', justBefore),
    then: accepted(confirmed('h1', vip2, justBefore)),
  },
  {
    rule: 'rejects confirming a hold at its due time, though the expirer has not expired it yet',
    given: [created, held('h1', vip2)],
    when: confirm('h1', due),
    then: holdExpired,
  },
  {
    rule: 'rejects confirming a hold past its due time',
    given: [created, held('h1', vip2)],
    when: confirm('h1', later),
    then: holdExpired,
  },
  {
    rule: 'compares times as instants, not as strings',
    given: [created, held('h1', vip2)],
    when: confirm('h1', '2026-11-21T11:09:00+01:00'),
    then: accepted(confirmed('h1', vip2, '2026-11-21T11:09:00+01:00')),
  },
  {
    rule: 'treats confirming a confirmed hold as already done, even past its due time',
    given: [created, held('h1', vip2), confirmed('h1', vip2)],
    when: confirm('h1', later),
    then: accepted(),
  },
  {
    rule: 'rejects confirming an expired hold, telling when it was due',
    given: [created, held('h1', vip2), expired('h1', vip2)],
    when: confirm('h1', justBefore),
    then: holdExpired,
  },
  {
    rule: 'rejects confirming a released hold',
    given: [created, held('h1', vip2), released('h1', vip2)],
    when: confirm('h1'),
    then: conflict('released'),
  },
  {
    rule: 'finds no hold to confirm by an unknown id',
    given: [created],
    when: confirm('h1'),
    then: holdNotFound(),
  },
  {
    rule: 'finds no hold to confirm in a one-step reservation',
    given: [created, reserved('h1', vip2)],
    when: confirm('h1'),
    then: holdNotFound(),
  },
  {
    rule: 'finds no hold to confirm in a cancelled reservation',
    given: [created, held('h1', vip2), confirmed('h1', vip2), cancelled('h1', vip2)],
    when: confirm('h1'),
    then: holdNotFound(),
  },
  {
    rule: 'rejects confirming at a conference that does not exist',
    given: [],
    when: confirm('h1'),
    then: noConference,
  },
];

const releaseCases: Case[] = [
  {
    rule: 'releases a hold, returning its seats',
    given: [created, held('h1', vip2)],
    when: release('h1', justBefore),
    then: accepted(released('h1', vip2, justBefore)),
  },
  {
    rule: 'releases a hold past its due time while it is not yet expired',
    given: [created, held('h1', vip2)],
    when: release('h1', later),
    then: accepted(released('h1', vip2, later)),
  },
  {
    rule: 'treats releasing a released hold as already done',
    given: [created, held('h1', vip2), released('h1', vip2)],
    when: release('h1'),
    then: accepted(),
  },
  {
    rule: 'treats releasing an expired hold as already done: its seats are back already',
    given: [created, held('h1', vip2), expired('h1', vip2)],
    when: release('h1', later),
    then: accepted(),
  },
  {
    rule: 'rejects releasing a confirmed hold: it is cancelled instead',
    given: [created, held('h1', vip2), confirmed('h1', vip2)],
    when: release('h1'),
    then: conflict('confirmed'),
  },
  {
    rule: 'finds no hold to release by an unknown id',
    given: [created],
    when: release('h1'),
    then: holdNotFound(),
  },
  {
    rule: 'finds no hold to release in a one-step reservation',
    given: [created, reserved('h1', vip2)],
    when: release('h1'),
    then: holdNotFound(),
  },
  {
    rule: 'finds no hold to release in a cancelled reservation',
    given: [created, reserved('h1', vip2), cancelled('h1', vip2)],
    when: release('h1'),
    then: holdNotFound(),
  },
  {
    rule: 'rejects releasing at a conference that does not exist',
    given: [],
    when: release('h1'),
    then: noConference,
  },
];

const expireCases: Case[] = [
  {
    rule: 'expires a hold at its due time, returning its seats',
    given: [created, held('h1', vip2)],
    when: expire('h1', due),
    then: accepted(expired('h1', vip2, due)),
  },
  {
    rule: 'expires a hold past its due time, with its due time so the lag reads off the event',
    given: [created, held('h1', vip2)],
    when: expire('h1', later),
    then: accepted({
      type: 'HoldExpired',
      data: { conferenceId, reservationId: 'h1', seats: vip2, expiresAt: due, expiredAt: later },
    }),
  },
  {
    rule: 'changes nothing when a hold is expired before its due time',
    given: [created, held('h1', vip2)],
    when: expire('h1', justBefore),
    then: accepted(),
  },
  {
    rule: 'changes nothing when an expired hold is expired again',
    given: [created, held('h1', vip2), expired('h1', vip2)],
    when: expire('h1', later),
    then: accepted(),
  },
  {
    rule: 'changes nothing when a released hold is expired',
    given: [created, held('h1', vip2), released('h1', vip2)],
    when: expire('h1', later),
    then: accepted(),
  },
  {
    rule: 'changes nothing when a confirmed hold is expired',
    given: [created, held('h1', vip2), confirmed('h1', vip2)],
    when: expire('h1', later),
    then: accepted(),
  },
  {
    rule: 'changes nothing when a one-step reservation is expired',
    given: [created, reserved('h1', vip2)],
    when: expire('h1', later),
    then: accepted(),
  },
  {
    rule: 'changes nothing when an unknown id is expired',
    given: [created],
    when: expire('h1', later),
    then: accepted(),
  },
  {
    rule: 'changes nothing when a hold is expired at a conference that does not exist',
    given: [],
    when: expire('h1', later),
    then: accepted(),
  },
];

const cancelCases: Case[] = [
  {
    rule: 'cancels a confirmed hold, returning its seats',
    given: [created, held('h1', vip2), confirmed('h1', vip2)],
    when: cancel('h1', later),
    then: accepted(cancelled('h1', vip2, later)),
  },
  {
    rule: 'treats cancelling a cancelled confirmed hold as already done',
    given: [created, held('h1', vip2), confirmed('h1', vip2), cancelled('h1', vip2)],
    when: cancel('h1'),
    then: accepted(),
  },
  {
    rule: 'rejects cancelling a pending hold: it is released instead',
    given: [created, held('h1', vip2)],
    when: cancel('h1'),
    then: conflict('held'),
  },
  {
    rule: 'rejects cancelling a released hold',
    given: [created, held('h1', vip2), released('h1', vip2)],
    when: cancel('h1'),
    then: conflict('released'),
  },
  {
    rule: 'rejects cancelling an expired hold',
    given: [created, held('h1', vip2), expired('h1', vip2)],
    when: cancel('h1'),
    then: conflict('expired'),
  },
  {
    rule: 'makes the seats of a cancelled confirmed hold available again',
    given: [created, held('h0', vip2), confirmed('h0', vip2), cancelled('h0', vip2)],
    when: hold('h1', vip2),
    then: accepted(held('h1', vip2)),
  },
];

/** The vip counts after the given events. */
type Counts = { given: SeatAvailabilityEvent[]; rule: string; reserved: number; held: number };
const countCases: Counts[] = [
  { rule: 'a hold adds to held', given: [created, held('h1', vip2)], reserved: 0, held: 2 },
  {
    rule: 'a confirm moves held seats to reserved',
    given: [created, held('h1', vip1), held('h2', vip1), confirmed('h1', vip1)],
    reserved: 1,
    held: 1,
  },
  { rule: 'a release takes from held', given: [created, held('h1', vip2), released('h1', vip2)], reserved: 0, held: 0 },
  { rule: 'an expiry takes from held', given: [created, held('h1', vip2), expired('h1', vip2)], reserved: 0, held: 0 },
  {
    rule: 'a cancel of a confirmed hold takes from reserved',
    given: [created, held('h1', vip1), confirmed('h1', vip1), reserved('r1', vip1), cancelled('h1', vip1)],
    reserved: 1,
    held: 0,
  },
];

describe('SeatAvailability holds', () => {
  describe.each([
    { command: 'HoldSeats', cases: holdSeatsCases },
    { command: 'ReserveSeats over a hold', cases: reserveOverHoldCases },
    { command: 'ConfirmReservation', cases: confirmCases },
    { command: 'ReleaseHold', cases: releaseCases },
    { command: 'ExpireHold', cases: expireCases },
    { command: 'CancelReservation of a hold', cases: cancelCases },
  ])('$command', ({ cases }) => {
    it.each(cases)('$rule', ({ given, when, then }) => {
      expect(decideOn(given, when)).toEqual(then);
    });
  });

  it.each(countCases)('counts seats: $rule', ({ given, reserved, held }) => {
    const state = evolveAll(given);
    if (state.status !== 'open') throw new Error('conference should be open');
    expect(availability(state).find((s) => s.type === 'vip')).toEqual({
      type: 'vip',
      capacity: 2,
      reserved,
      held,
      remaining: 2 - reserved - held,
    });
  });

  it('knows a hold by its own events: its status, seats, and due time while it matters', () => {
    const of = (...events: SeatAvailabilityEvent[]) => reservationOf(events);
    expect(of(held('h1', vip2))).toEqual({ status: 'held', seats: vip2, expiresAt: due });
    expect(of(held('h1', vip2), confirmed('h1', vip2))).toEqual({ status: 'confirmed', seats: vip2 });
    expect(of(held('h1', vip2), released('h1', vip2))).toEqual({ status: 'released', seats: vip2 });
    expect(of(held('h1', vip2), expired('h1', vip2))).toEqual({ status: 'expired', seats: vip2, expiresAt: due });
    expect(of(held('h1', vip2), confirmed('h1', vip2), cancelled('h1', vip2))).toEqual({
      status: 'cancelled',
      seats: vip2,
    });
  });

  it('finds the reservation id every hold event and command names', () => {
    for (const event of [held('h1', vip2), confirmed('h1', vip2), released('h1', vip2), expired('h1', vip2)]) {
      expect(reservationIdOf(event)).toBe('h1');
    }
    for (const command of [hold('h1', vip2), confirm('h1'), release('h1'), expire('h1')]) {
      expect(reservationIdOfCommand(command)).toBe('h1');
    }
  });

  it('leaves the state it decides on unchanged', () => {
    const state = evolveAll([created, held('h1', vip1)]);
    const before = structuredClone(state);
    const pending = { status: 'held', seats: vip1, expiresAt: due } as const;
    decide(state, hold('h2', vip1));
    decide(state, confirm('h1'), pending);
    decide(state, release('h1'), pending);
    decide(state, expire('h1'), pending);
    expect(state).toEqual(before);
  });
});
