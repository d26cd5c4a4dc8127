import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingResult, Reservation } from '../src/bookings.js';
import { loadConfig } from '../src/config.js';
import { crudAtomicBookings } from '../src/crud-baseline/crud-atomic-bookings.js';
import { crudBookings } from '../src/crud-baseline/crud-bookings.js';
import type { CrudBookings } from '../src/crud-baseline/crud-conferences.js';
import { connect, type Sql } from '../src/database/connect.js';
import type { SeatQuantity } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService, operatorAuth } from './support/service.js';

let db: TestDatabase;
/** A second pool: the commands and sweeps of another process. */
let otherProcess: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  otherProcess = connect(db.url, 5);
});
afterAll(async () => {
  await otherProcess?.end({ timeout: 5 });
  await db?.drop();
});

/** Time as data: every command's time is what its design's clock says, every sweep's is given. */
const T0 = new Date('2030-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const designs: { design: string; bookings: (sql: Sql, clock: () => Date) => CrudBookings }[] = [
  { design: 'crud', bookings: (sql, clock) => crudBookings(sql, { clock }) },
  { design: 'crud-atomic', bookings: (sql, clock) => crudAtomicBookings(sql, { clock }) },
];

const slug = (design: string) => design.replace(/[^a-z]+/g, '-');

const standard = (quantity: number): SeatQuantity[] => [{ seatType: 'standard', quantity }];

// Test code reads answers loosely; the assertions say what shape they must have.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

const outcomeOf = (result: BookingResult<unknown>) =>
  result.kind === 'ok' ? (result.created ? 'created' : 'repeated') : result.rejection.kind;

/** What was really recorded: the counters, and every reservation row. */
const stored = async (conferenceId: string) => {
  const counters = await db.sql<{ seatType: string; capacity: number; reserved: number; held: number }[]>`
    select seat_type as "seatType", capacity, reserved, held from crud_seat_counters
    where conference_id = ${conferenceId} order by ordinal`;
  const rows = await db.sql<{ reservationId: string; seats: SeatQuantity[]; status: Reservation['status'] }[]>`
    select reservation_id as "reservationId", seats, status from crud_reservations where conference_id = ${conferenceId}`;
  return { counters, rows };
};

/** Every counter is what the rows hold: held = the held rows' seats, reserved = the reserved and confirmed ones'. */
const expectCountersMatchRows = async (conferenceId: string) => {
  const { counters, rows } = await stored(conferenceId);
  const seatsOf = (type: string, statuses: string[]) =>
    rows
      .filter((r) => statuses.includes(r.status))
      .flatMap((r) => r.seats)
      .filter((s) => s.seatType === type)
      .reduce((n, s) => n + s.quantity, 0);
  for (const { seatType, capacity, reserved, held } of counters) {
    expect({ seatType, held }).toEqual({ seatType, held: seatsOf(seatType, ['held']) });
    expect({ seatType, reserved }).toEqual({ seatType, reserved: seatsOf(seatType, ['reserved', 'confirmed']) });
    expect(reserved).toBeGreaterThanOrEqual(0);
    expect(held).toBeGreaterThanOrEqual(0);
    expect(reserved + held).toBeLessThanOrEqual(capacity);
  }
  return { counters, rows };
};

describe.each(designs)('holds in the $design design', ({ design, bookings }) => {
  const createConference = async (booking: CrudBookings, conferenceId: string, standardSeats: number, vip = 1) => {
    const seatTypes = [
      { type: 'standard', capacity: standardSeats },
      { type: 'vip', capacity: vip },
    ];
    expect((await booking.createConference({ conferenceId, name: conferenceId, seatTypes }, {})).kind).toBe('ok');
  };

  it('holds, confirms, releases and expires as the domain decides, repeats and rejections alike', async () => {
    let now = T0;
    const booking = bookings(db.sql, () => now);
    const conferenceId = `rules-${slug(design)}`;
    await createConference(booking, conferenceId, 4);
    const key = (reservationId: string) => ({ conferenceId, reservationId });
    const hold = (reservationId: string, seats: SeatQuantity[], holdSeconds = 60) =>
      booking.holdSeats({ ...key(reservationId), seats, holdSeconds }, {});
    const seatCounts = async () =>
      (await booking.availability(conferenceId, 'strong'))?.seatTypes.map(({ type, reserved, held, remaining }) => ({
        type,
        reserved,
        held,
        remaining,
      }));

    expect(await hold('h1-4f9c2a7e1b8d6', standard(2))).toEqual({
      kind: 'ok',
      created: true,
      value: { ...key('h1-4f9c2a7e1b8d6'), seats: standard(2), status: 'held', expiresAt: at(60).toISOString() },
    });
    // A repeat keeps the first hold's due time, whatever it asks for.
    expect(await hold('h1-4f9c2a7e1b8d6', standard(2), 300)).toMatchObject({
      created: false,
      value: { status: 'held', expiresAt: at(60).toISOString() },
    });
    expect(await hold('h1-4f9c2a7e1b8d6', standard(1))).toMatchObject({
      rejection: { kind: 'reservation_conflict', reason: 'different_seats' },
    });
    expect(await booking.reserveSeats({ ...key('h1-4f9c2a7e1b8d6'), seats: standard(2) }, {})).toMatchObject({
      rejection: { kind: 'reservation_conflict', reason: 'held' },
    });
    expect(await booking.cancelReservation(key('h1-4f9c2a7e1b8d6'), {})).toMatchObject({
      rejection: { kind: 'reservation_conflict', reason: 'held' },
    });
    expect(await seatCounts()).toEqual([
      { type: 'standard', reserved: 0, held: 2, remaining: 2 },
      { type: 'vip', reserved: 0, held: 0, remaining: 1 },
    ]);
    // Held seats are not on sale, to a hold or a reservation.
    expect(await hold('h2', standard(3))).toEqual({
      kind: 'rejected',
      rejection: { kind: 'insufficient_seats', remaining: [{ seatType: 'standard', requested: 3, remaining: 2 }] },
    });
    expect(await booking.reserveSeats({ ...key('r1'), seats: standard(3) }, {})).toMatchObject({
      rejection: { kind: 'insufficient_seats' },
    });

    now = at(59.999);
    expect(await booking.confirmReservation(key('h1-4f9c2a7e1b8d6'), {})).toEqual({
      kind: 'ok',
      created: true,
      value: { ...key('h1-4f9c2a7e1b8d6'), seats: standard(2), status: 'confirmed' },
    });
    expect(outcomeOf(await booking.confirmReservation(key('h1-4f9c2a7e1b8d6'), {}))).toBe('repeated');
    expect(outcomeOf(await hold('h1-4f9c2a7e1b8d6', standard(2)))).toBe('repeated');
    expect(await booking.releaseHold(key('h1-4f9c2a7e1b8d6'), {})).toMatchObject({
      rejection: { kind: 'reservation_conflict', reason: 'confirmed' },
    });
    expect(await seatCounts()).toEqual([
      { type: 'standard', reserved: 2, held: 0, remaining: 2 },
      { type: 'vip', reserved: 0, held: 0, remaining: 1 },
    ]);
    expect(await booking.cancelReservation(key('h1-4f9c2a7e1b8d6'), {})).toMatchObject({
      created: true,
      value: { status: 'cancelled' },
    });

    expect(outcomeOf(await hold('h3', [{ seatType: 'vip', quantity: 1 }]))).toBe('created');
    expect(await booking.releaseHold(key('h3'), {})).toMatchObject({ created: true, value: { status: 'released' } });
    expect(outcomeOf(await booking.releaseHold(key('h3'), {}))).toBe('repeated');
    expect(await booking.confirmReservation(key('h3'), {})).toMatchObject({
      rejection: { kind: 'reservation_conflict', reason: 'released' },
    });

    // Past its due time a hold cannot be confirmed, even before the sweep expired it; it can be released.
    now = T0;
    expect(outcomeOf(await hold('h4-4f9c2a7e1b8d6', standard(1)))).toBe('created');
    expect(outcomeOf(await hold('h5', standard(1)))).toBe('created');
    now = at(60);
    expect(await booking.confirmReservation(key('h4-4f9c2a7e1b8d6'), {})).toEqual({
      kind: 'rejected',
      rejection: { kind: 'hold_expired', reservationId: 'h4-4f9c2a7e1b8d6', expiresAt: at(60).toISOString() },
    });
    expect(outcomeOf(await booking.releaseHold(key('h4-4f9c2a7e1b8d6'), {}))).toBe('created');
    expect(await booking.expireDueHolds(at(60))).toEqual([key('h5')]);
    expect(await booking.releaseHold(key('h5'), {})).toMatchObject({ created: false, value: { status: 'expired' } });
    expect(await booking.confirmReservation(key('h5'), {})).toMatchObject({ rejection: { kind: 'hold_expired' } });
    expect(await booking.reservation(conferenceId, 'h5')).toEqual({
      ...key('h5'),
      seats: standard(1),
      status: 'expired',
      expiresAt: at(60).toISOString(),
      reservedAt: T0.toISOString(),
      expiredAt: at(60).toISOString(),
    });

    for (const id of ['ghost', 'r1']) {
      expect(await booking.confirmReservation(key(id), {})).toMatchObject({ rejection: { kind: 'hold_not_found' } });
      expect(await booking.releaseHold(key(id), {})).toMatchObject({ rejection: { kind: 'hold_not_found' } });
    }
    const elsewhere = { conferenceId: 'nowhere', reservationId: 'h1-4f9c2a7e1b8d6' };
    expect(await booking.holdSeats({ ...elsewhere, seats: standard(1), holdSeconds: 60 }, {})).toMatchObject({
      rejection: { kind: 'conference_not_found' },
    });
    expect(await booking.confirmReservation(elsewhere, {})).toMatchObject({
      rejection: { kind: 'conference_not_found' },
    });
    expect(await seatCounts()).toEqual([
      { type: 'standard', reserved: 0, held: 0, remaining: 4 },
      { type: 'vip', reserved: 0, held: 0, remaining: 1 },
    ]);
    await expectCountersMatchRows(conferenceId);
  });

  it('expires, at the now it is given, the pending holds due by then and no others', async () => {
    const booking = bookings(db.sql, () => T0);
    const conferenceId = `sweep-${slug(design)}`;
    await createConference(booking, conferenceId, 10);
    const key = (reservationId: string) => ({ conferenceId, reservationId });
    for (const [reservationId, holdSeconds] of [
      ['short-1', 60],
      ['short-2', 60],
      ['long-1', 600],
    ] as const) {
      await booking.holdSeats({ ...key(reservationId), seats: standard(2), holdSeconds }, {});
    }
    await booking.holdSeats({ ...key('confirmed'), seats: standard(1), holdSeconds: 60 }, {});
    await booking.confirmReservation(key('confirmed'), {});

    expect(await booking.expireDueHolds(at(59.999))).toEqual([]);
    const expired = await booking.expireDueHolds(at(60));
    expect(expired.map((h) => h.reservationId).sort()).toEqual(['short-1', 'short-2']);
    expect(await booking.expireDueHolds(at(60))).toEqual([]);

    const availability = await booking.availability(conferenceId, 'eventual');
    expect(availability?.seatTypes[0]).toEqual({ type: 'standard', capacity: 10, reserved: 1, held: 2, remaining: 7 });
    const page = await booking.reservations(conferenceId, { after: '', limit: 10 });
    expect(page?.map((r) => [r.reservationId, r.status, r.expiredAt])).toEqual([
      ['confirmed', 'confirmed', undefined],
      ['long-1', 'held', undefined],
      ['short-1', 'expired', at(60).toISOString()],
      ['short-2', 'expired', at(60).toISOString()],
    ]);
    expect(page?.find((r) => r.reservationId === 'long-1')?.expiresAt).toBe(at(600).toISOString());
    expect(page?.find((r) => r.reservationId === 'confirmed')?.confirmedAt).toBe(T0.toISOString());
    await expectCountersMatchRows(conferenceId);
  });

  it('keeps the counters equal to the rows when holds, confirms, releases, reserves, cancels and two processes’ sweeps race', async () => {
    // Both processes' clocks say T0; the sweeps run at T0 + 60 s, when the 30 s and 60 s holds are due.
    const here = bookings(db.sql, () => T0);
    const there = bookings(otherProcess, () => T0);
    const process = (i: number) => (i % 2 === 0 ? here : there);
    const conferenceId = `race-${slug(design)}`;
    await createConference(here, conferenceId, 120, 8);
    const key = (reservationId: string) => ({ conferenceId, reservationId });
    // Multi-type holds name their types in both orders: a design that locks in request order would deadlock.
    const both = (i: number) => {
      const seats = [
        { seatType: 'standard', quantity: 2 },
        { seatType: 'vip', quantity: 1 },
      ];
      return i % 2 === 0 ? seats : seats.reverse();
    };
    const seatsFor = (k: number) => (k % 5 === 0 ? both(k) : standard(1 + (k % 3)));
    const holdSecondsFor = (k: number) => 30 * (1 + (k % 3));

    const expiredBySweeps: string[] = [];
    const sweep = async (by: CrudBookings) => {
      expiredBySweeps.push(...(await by.expireDueHolds(at(60))).map((h) => h.reservationId));
      return 'swept';
    };
    const outcomes = await Promise.all(
      Array.from({ length: 320 }, async (_, i) => {
        const k = i % 80;
        const by = process(i);
        switch (Math.floor(i / 80)) {
          case 0:
          case 2: // holds, and 80 repeats of them racing the first
            return outcomeOf(
              await by.holdSeats({ ...key(`h-${k}`), seats: seatsFor(k), holdSeconds: holdSecondsFor(k) }, {}),
            );
          case 1:
            if (k % 10 === 0) return sweep(by);
            if (k % 4 === 0) return outcomeOf(await by.releaseHold(key(`h-${k}`), {}));
            if (k % 4 === 1) return outcomeOf(await by.confirmReservation(key(`h-${k}`), {}));
            if (k % 4 === 2) return outcomeOf(await by.reserveSeats({ ...key(`r-${k}`), seats: standard(1) }, {}));
            return outcomeOf(await by.cancelReservation(key(`h-${k - 2}`), {}));
          default:
            // Sweeps of both processes at once, racing the confirms and releases of the holds they find.
            if (k % 4 === 0 || k % 4 === 3) return sweep(by);
            if (k % 4 === 1) return outcomeOf(await by.releaseHold(key(`h-${k}`), {}));
            return outcomeOf(await by.confirmReservation(key(`h-${k}`), {}));
        }
      }),
    );
    const expected = [
      'created',
      'repeated',
      'swept',
      'insufficient_seats',
      'reservation_conflict',
      'hold_not_found',
      'hold_expired',
      'reservation_not_found',
    ];
    expect(outcomes.filter((o) => !expected.includes(o))).toEqual([]);
    expect(outcomes.filter((o) => o === 'created').length).toBeGreaterThan(20);

    const { rows } = await expectCountersMatchRows(conferenceId);
    // No hold expired twice, and every expired row is one a sweep reports.
    expect(new Set(expiredBySweeps).size).toBe(expiredBySweeps.length);
    const expiredRows = rows.filter((r) => r.status === 'expired').map((r) => r.reservationId);
    expect(expiredBySweeps.sort()).toEqual(expiredRows.sort());

    // Once every hold is due, both processes sweep at once: each hold expires once, every seat held comes back.
    const last = (await Promise.all([here.expireDueHolds(at(90)), there.expireDueHolds(at(90))])).flat();
    expect(new Set(last.map((h) => h.reservationId)).size).toBe(last.length);
    const after = await expectCountersMatchRows(conferenceId);
    expect(after.rows.filter((r) => r.status === 'held')).toEqual([]);
    expect(after.counters.map((c) => c.held)).toEqual([0, 0]);
    expect(last.length + expiredRows.length).toBe(after.rows.filter((r) => r.status === 'expired').length);
  });
});

describe.each([
  { design: 'crud', prefix: '/crud/conferences' },
  { design: 'crud-atomic', prefix: '/crud-atomic/conferences' },
])('the hold routes of the $design design', ({ design, prefix }) => {
  it('holds 201, confirms and releases 200, and answers 409 past the due time or the capacity', async () => {
    let now = T0;
    const service = createTestService(db.sql, { clock: () => now });
    const send = (method: string, path: string, body?: unknown) =>
      service.app.request(`${prefix}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...operatorAuth },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const id = `http-${slug(design)}`;
    const hold = (reservationId: string, quantity: number) =>
      send('POST', `/${id}/holds`, { reservationId, seats: standard(quantity), holdSeconds: 60 });
    const problem = async (response: Response, status: number, error: string) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = await json(response);
      expect(body.error).toBe(error);
      return body;
    };
    const seatCounts = async () => {
      const { seatTypes } = await json(send('GET', `/${id}/availability`));
      return seatTypes;
    };
    expect(
      (await send('POST', '', { id, name: 'Checkout', seatTypes: [{ type: 'standard', capacity: 4 }] })).status,
    ).toBe(201);

    const held = await hold('h-1-4f9c2a7e1b8d', 2);
    expect(held.status).toBe(201);
    expect(held.headers.get('location')).toBe(`${prefix}/${id}/reservations/h-1-4f9c2a7e1b8d`);
    expect(await json(held)).toEqual({
      reservationId: 'h-1-4f9c2a7e1b8d',
      conferenceId: id,
      seats: standard(2),
      status: 'held',
      expiresAt: at(60).toISOString(),
    });
    expect((await hold('h-1-4f9c2a7e1b8d', 2)).status).toBe(200);
    await problem(await hold('h-1-4f9c2a7e1b8d', 1), 409, 'reservation_conflict');
    const short = await problem(await hold('h-2-4f9c2a7e1b8d', 3), 409, 'insufficient_seats');
    expect(short.remaining).toEqual([{ seatType: 'standard', requested: 3, remaining: 2 }]);
    expect(await seatCounts()).toEqual([{ type: 'standard', capacity: 4, reserved: 0, held: 2, remaining: 2 }]);

    const confirmed = await send('POST', `/${id}/holds/h-1-4f9c2a7e1b8d/confirm`);
    expect(confirmed.status).toBe(200);
    expect(await json(confirmed)).toEqual({
      reservationId: 'h-1-4f9c2a7e1b8d',
      conferenceId: id,
      seats: standard(2),
      status: 'confirmed',
    });
    expect((await send('POST', `/${id}/holds/h-1-4f9c2a7e1b8d/confirm`)).status).toBe(200);

    expect((await hold('h-3-4f9c2a7e1b8d', 1)).status).toBe(201);
    const released = await send('DELETE', `/${id}/holds/h-3-4f9c2a7e1b8d`);
    expect(released.status).toBe(200);
    expect(await json(released)).toMatchObject({ reservationId: 'h-3-4f9c2a7e1b8d', status: 'released' });
    await problem(await send('DELETE', `/${id}/holds/ghost`), 404, 'hold_not_found');

    expect((await hold('h-4-4f9c2a7e1b8d', 1)).status).toBe(201);
    now = at(60);
    const late = await problem(await send('POST', `/${id}/holds/h-4-4f9c2a7e1b8d/confirm`), 409, 'hold_expired');
    expect(late.expiresAt).toBe(at(60).toISOString());
    expect(await seatCounts()).toEqual([{ type: 'standard', capacity: 4, reserved: 2, held: 1, remaining: 1 }]);

    const bookings = design === 'crud' ? service.crudBookings : service.crudAtomicBookings;
    expect(await bookings.expireDueHolds(at(60))).toContainEqual({
      conferenceId: id,
      reservationId: 'h-4-4f9c2a7e1b8d',
    });
    expect(await seatCounts()).toEqual([{ type: 'standard', capacity: 4, reserved: 2, held: 0, remaining: 2 }]);
    expect(await json(send('GET', `/${id}/reservations/h-4-4f9c2a7e1b8d`))).toEqual({
      reservationId: 'h-4-4f9c2a7e1b8d',
      conferenceId: id,
      seats: standard(1),
      status: 'expired',
      expiresAt: at(60).toISOString(),
      reservedAt: T0.toISOString(),
      expiredAt: at(60).toISOString(),
    });
    const { reservations } = await json(send('GET', `/${id}/reservations`));
    expect(reservations.map((r: Reservation) => [r.reservationId, r.status])).toEqual([
      ['h-1-4f9c2a7e1b8d', 'confirmed'],
      ['h-3-4f9c2a7e1b8d', 'released'],
      ['h-4-4f9c2a7e1b8d', 'expired'],
    ]);
  });
});

describe('the service', () => {
  it('sweeps the due holds of both CRUD designs on its own once started, at its clock’s time, until closed', async () => {
    let now = T0;
    const service = createTestService(db.sql, {
      clock: () => now,
      holds: { ...loadConfig({}).holds, expiryPollIntervalMs: 10 },
    });
    const conferenceId = 'swept-by-the-service';
    const seatTypes = [{ type: 'standard', capacity: 4 }];
    await service.crudBookings.createConference({ conferenceId, name: conferenceId, seatTypes }, {});
    for (const [reservationId, bookings] of [
      ['by-crud', service.crudBookings],
      ['by-crud-atomic', service.crudAtomicBookings],
    ] as const) {
      await bookings.holdSeats({ conferenceId, reservationId, seats: standard(1), holdSeconds: 60 }, {});
    }
    const statuses = async () =>
      (await service.crudBookings.reservations(conferenceId, { after: '', limit: 10 }))?.map((r) => r.status);

    service.crudHoldSweeps.start();
    try {
      expect(await statuses()).toEqual(['held', 'held']);
      now = at(60);
      await expect.poll(statuses, { timeout: 10_000 }).toEqual(['expired', 'expired']);
    } finally {
      service.close();
    }
    await expectCountersMatchRows(conferenceId);
  });
});
