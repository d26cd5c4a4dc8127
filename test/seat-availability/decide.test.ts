import { describe, expect, it } from 'vitest';
import { decide, evolveAll } from '../../src/seat-availability/index.js';
import {
  accepted,
  cancel,
  cancelled,
  conferenceId,
  create,
  created,
  decideOn,
  reserve,
  reserved,
  type Case,
} from './given-when-then.js';

const cases: Case[] = [
  { rule: 'creates a conference that does not exist', given: [], when: create, then: accepted(created) },
  {
    rule: 'rejects creating a conference that exists',
    given: [created],
    when: create,
    then: { kind: 'rejected', rejection: { kind: 'conference_exists', conferenceId } },
  },
  {
    rule: 'rejects a reservation at a conference that does not exist',
    given: [],
    when: reserve('r1', [{ seatType: 'standard', quantity: 1 }]),
    then: { kind: 'rejected', rejection: { kind: 'conference_not_found', conferenceId } },
  },
  {
    rule: 'rejects a cancel at a conference that does not exist',
    given: [],
    when: cancel('r1'),
    then: { kind: 'rejected', rejection: { kind: 'conference_not_found', conferenceId } },
  },
  {
    rule: 'reserves seats of several types at once',
    given: [created],
    when: reserve('r1', [
      { seatType: 'standard', quantity: 3 },
      { seatType: 'vip', quantity: 2 },
    ]),
    then: accepted(
      reserved('r1', [
        { seatType: 'standard', quantity: 3 },
        { seatType: 'vip', quantity: 2 },
      ]),
    ),
  },
  {
    rule: 'reserves the very last seat',
    given: [created, reserved('r1', [{ seatType: 'vip', quantity: 1 }])],
    when: reserve('r2', [{ seatType: 'vip', quantity: 1 }]),
    then: accepted(reserved('r2', [{ seatType: 'vip', quantity: 1 }])),
  },
  {
    rule: 'rejects a reservation that exceeds the remaining seats, with what remains of each requested type',
    given: [created, reserved('r1', [{ seatType: 'vip', quantity: 2 }])],
    when: reserve('r2', [
      { seatType: 'standard', quantity: 1 },
      { seatType: 'vip', quantity: 1 },
    ]),
    then: {
      kind: 'rejected',
      rejection: {
        kind: 'insufficient_seats',
        remaining: [
          { seatType: 'standard', requested: 1, remaining: 10 },
          { seatType: 'vip', requested: 1, remaining: 0 },
        ],
      },
    },
  },
  {
    rule: 'rejects a seat type the conference does not have',
    given: [created],
    when: reserve('r1', [
      { seatType: 'standard', quantity: 1 },
      { seatType: 'balcony', quantity: 1 },
    ]),
    then: { kind: 'rejected', rejection: { kind: 'unknown_seat_type', seatTypes: ['balcony'] } },
  },
  {
    rule: 'treats a repeated reservation with the same seats as already done',
    given: [created, reserved('r1', [{ seatType: 'standard', quantity: 2 }])],
    when: reserve('r1', [{ seatType: 'standard', quantity: 2 }]),
    then: accepted(),
  },
  {
    rule: 'treats a repeat as already done even when no seats remain',
    given: [created, reserved('r1', [{ seatType: 'vip', quantity: 2 }])],
    when: reserve('r1', [{ seatType: 'vip', quantity: 2 }]),
    then: accepted(),
  },
  {
    rule: 'compares the seats of a repeat regardless of order',
    given: [
      created,
      reserved('r1', [
        { seatType: 'standard', quantity: 1 },
        { seatType: 'vip', quantity: 1 },
      ]),
    ],
    when: reserve('r1', [
      { seatType: 'vip', quantity: 1 },
      { seatType: 'standard', quantity: 1 },
    ]),
    then: accepted(),
  },
  {
    rule: 'rejects a reservation id reused with other seats',
    given: [created, reserved('r1', [{ seatType: 'standard', quantity: 2 }])],
    when: reserve('r1', [{ seatType: 'standard', quantity: 3 }]),
    then: {
      kind: 'rejected',
      rejection: { kind: 'reservation_conflict', reservationId: 'r1', reason: 'different_seats' },
    },
  },
  {
    rule: 'rejects reusing the id of a cancelled reservation',
    given: [
      created,
      reserved('r1', [{ seatType: 'standard', quantity: 2 }]),
      cancelled('r1', [{ seatType: 'standard', quantity: 2 }]),
    ],
    when: reserve('r1', [{ seatType: 'standard', quantity: 2 }]),
    then: { kind: 'rejected', rejection: { kind: 'reservation_conflict', reservationId: 'r1', reason: 'cancelled' } },
  },
  {
    rule: 'cancels a reservation, returning its seats',
    given: [created, reserved('r1', [{ seatType: 'vip', quantity: 2 }])],
    when: cancel('r1'),
    then: accepted(cancelled('r1', [{ seatType: 'vip', quantity: 2 }])),
  },
  {
    rule: 'treats cancelling a cancelled reservation as already done',
    given: [
      created,
      reserved('r1', [{ seatType: 'vip', quantity: 2 }]),
      cancelled('r1', [{ seatType: 'vip', quantity: 2 }]),
    ],
    when: cancel('r1'),
    then: accepted(),
  },
  {
    rule: 'rejects cancelling an unknown reservation',
    given: [created],
    when: cancel('nope'),
    then: { kind: 'rejected', rejection: { kind: 'reservation_not_found', reservationId: 'nope' } },
  },
  {
    rule: 'makes cancelled seats available again',
    given: [
      created,
      reserved('r1', [{ seatType: 'vip', quantity: 2 }]),
      cancelled('r1', [{ seatType: 'vip', quantity: 2 }]),
    ],
    when: reserve('r2', [{ seatType: 'vip', quantity: 2 }]),
    then: accepted(reserved('r2', [{ seatType: 'vip', quantity: 2 }])),
  },
];

describe('SeatAvailability decide', () => {
  it.each(cases)('$rule', ({ given, when, then }) => {
    expect(decideOn(given, when)).toEqual(then);
  });

  it('holds seat counts only, however many reservations were made', () => {
    const history = [
      created,
      ...Array.from({ length: 500 }, (_, i) => reserved(`r${i}`, [{ seatType: 'standard', quantity: 0 }])),
    ];
    const state = evolveAll(history);
    expect(state).toEqual({
      status: 'open',
      conferenceId,
      name: 'DevConf',
      seatTypes: new Map([
        ['standard', { capacity: 10, reserved: 0, held: 0 }],
        ['vip', { capacity: 2, reserved: 0, held: 0 }],
      ]),
    });
  });

  it('leaves the state it decides on unchanged', () => {
    const state = evolveAll([created, reserved('r1', [{ seatType: 'vip', quantity: 1 }])]);
    const before = structuredClone(state);
    decide(state, reserve('r2', [{ seatType: 'vip', quantity: 1 }]));
    decide(state, cancel('r1'), { status: 'reserved', seats: [{ seatType: 'vip', quantity: 1 }] });
    expect(state).toEqual(before);
  });
});
