import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bookings } from '../src/bookings.js';
import { BusyError, toSeatAvailabilityEvent } from '../src/command-handlers/index.js';
import { connect } from '../src/database/connect.js';
import { eventSourcedBookings } from '../src/event-sourced-bookings.js';
import { readDueHolds } from '../src/hold-expiry/hold-expirer.js';
import {
  evolveAll,
  reservationsOf,
  streamIdOf,
  type SeatAvailabilityEvent,
  type SeatQuantity,
} from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService, operatorAuth } from './support/service.js';
import { eventually } from './support/views.js';

let db: TestDatabase;
/** The time every service of this file sees: moved on by the tests, never by a timer. */
let now = new Date('2026-12-03T10:00:00.000Z');
const clock = () => now;
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
let service: ReturnType<typeof createTestService>;

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql, { clock });
});
afterAll(async () => {
  service?.close();
  await db?.drop();
});

const json = { 'content-type': 'application/json', ...operatorAuth };
const post = (path: string, body?: unknown) =>
  service.app.request(path, { method: 'POST', headers: json, ...(body ? { body: JSON.stringify(body) } : {}) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field below
const body = async (response: Response | Promise<Response>): Promise<any> => (await response).json();
const seats = (quantity: number): SeatQuantity[] => [{ seatType: 'standard', quantity }];

const createConference = async (bookings: Bookings, conferenceId: string, capacity: number) => {
  const created = await bookings.createConference(
    { conferenceId, name: conferenceId, seatTypes: [{ type: 'standard', capacity }] },
    {},
  );
  expect(created.kind).toBe('ok');
};

/** The stream as recorded: its events, and what they fold to (the counts, and each reservation's status). */
const recorded = async (conferenceId: string) => {
  const events = (await service.eventStore.readStream(streamIdOf(conferenceId))).map(toSeatAvailabilityEvent);
  const state = evolveAll(events);
  if (state.status !== 'open') throw new Error(`${conferenceId} is not in the store`);
  return { events, counts: state.seatTypes.get('standard')!, reservations: reservationsOf(events) };
};

/** Seats of the reservations at these statuses. */
const seatsAt = (reservations: Map<string, { status: string; seats?: SeatQuantity[] }>, ...statuses: string[]) =>
  [...reservations.values()]
    .filter((r) => statuses.includes(r.status))
    .flatMap((r) => r.seats ?? [])
    .reduce((sum, s) => sum + s.quantity, 0);

/** At every version of the stream, reserved + held stays within capacity and neither goes below 0. */
const expectWithinCapacityAtEveryVersion = (events: SeatAvailabilityEvent[]) => {
  for (let version = 1; version <= events.length; version++) {
    const state = evolveAll(events.slice(0, version));
    if (state.status !== 'open') continue;
    for (const { capacity, reserved, held } of state.seatTypes.values()) {
      expect(reserved).toBeGreaterThanOrEqual(0);
      expect(held).toBeGreaterThanOrEqual(0);
      expect(reserved + held).toBeLessThanOrEqual(capacity);
    }
  }
};

describe('holds over HTTP', () => {
  it('holds, confirms and releases, and shows held seats and each status in both reads and the views', async () => {
    await post('/conferences', { id: 'checkout', name: 'Checkout', seatTypes: [{ type: 'standard', capacity: 10 }] });

    const held = await post('/conferences/checkout/holds', {
      reservationId: 'h1-4f9c2a7e1b8d6',
      seats: seats(3),
      holdSeconds: 60,
    });
    expect(held.status).toBe(201);
    expect(held.headers.get('location')).toBe('/conferences/checkout/reservations/h1-4f9c2a7e1b8d6');
    expect(await body(held)).toEqual({
      reservationId: 'h1-4f9c2a7e1b8d6',
      conferenceId: 'checkout',
      seats: seats(3),
      status: 'held',
      expiresAt: later(60).toISOString(),
    });
    const repeated = await post('/conferences/checkout/holds', { reservationId: 'h1-4f9c2a7e1b8d6', seats: seats(3) });
    expect(repeated.status).toBe(200);
    expect(
      (await post('/conferences/checkout/holds', { reservationId: 'h2-4f9c2a7e1b8d6', seats: seats(2) })).status,
    ).toBe(201);

    const strong = await body(service.app.request('/conferences/checkout/availability?consistency=strong'));
    expect(strong.seatTypes).toEqual([{ type: 'standard', capacity: 10, reserved: 0, held: 5, remaining: 5 }]);
    const tooMany = await post('/conferences/checkout/holds', { seats: seats(6) });
    expect(tooMany.status).toBe(409);
    expect((await body(tooMany)).error).toBe('insufficient_seats');

    const confirmed = await post('/conferences/checkout/holds/h1-4f9c2a7e1b8d6/confirm');
    expect(confirmed.status).toBe(200);
    expect(await body(confirmed)).toMatchObject({ status: 'confirmed', seats: seats(3) });
    expect((await post('/conferences/checkout/holds/h1-4f9c2a7e1b8d6/confirm')).status).toBe(200);
    const releaseConfirmed = await service.app.request('/conferences/checkout/holds/h1-4f9c2a7e1b8d6', {
      method: 'DELETE',
    });
    expect(releaseConfirmed.status).toBe(409);
    expect(await body(releaseConfirmed)).toMatchObject({ error: 'reservation_conflict', reason: 'confirmed' });

    const released = await service.app.request('/conferences/checkout/holds/h2-4f9c2a7e1b8d6', { method: 'DELETE' });
    expect(released.status).toBe(200);
    expect(await body(released)).toMatchObject({ status: 'released' });
    const unknown = await post('/conferences/checkout/holds/nobody/confirm');
    expect(unknown.status).toBe(404);
    expect((await body(unknown)).error).toBe('hold_not_found');

    await catchUp(service.projector);
    const eventual = await body(service.app.request('/conferences/checkout/availability'));
    expect(eventual.seatTypes).toEqual([{ type: 'standard', capacity: 10, reserved: 3, held: 0, remaining: 7 }]);
    const h1 = await body(service.app.request('/conferences/checkout/reservations/h1-4f9c2a7e1b8d6'));
    expect(h1).toEqual({
      reservationId: 'h1-4f9c2a7e1b8d6',
      conferenceId: 'checkout',
      seats: seats(3),
      status: 'confirmed',
      expiresAt: later(60).toISOString(),
      reservedAt: now.toISOString(),
      confirmedAt: now.toISOString(),
    });
    const page = await body(service.app.request('/conferences/checkout/reservations', { headers: operatorAuth }));
    expect(page.reservations.map((r: { status: string }) => r.status)).toEqual(['confirmed', 'released']);
  });

  it('rejects a confirm at the due time with hold_expired, and returns the seats when the expirer comes', async () => {
    await post('/conferences', { id: 'late', name: 'Late', seatTypes: [{ type: 'standard', capacity: 4 }] });
    expect(
      (await post('/conferences/late/holds', { reservationId: 'slow-4f9c2a7e1b8', seats: seats(4), holdSeconds: 30 }))
        .status,
    ).toBe(201);
    const dueAt = later(30);
    await catchUp(service.projector);
    expect(await service.expirer.expireDue()).toBe(0);

    now = dueAt;
    const tooLate = await post('/conferences/late/holds/slow-4f9c2a7e1b8/confirm');
    expect(tooLate.status).toBe(409);
    expect(await body(tooLate)).toMatchObject({ error: 'hold_expired', expiresAt: dueAt.toISOString() });

    expect(await service.expirer.expireDue()).toBe(1);
    const { counts, events } = await recorded('late');
    expect(counts).toEqual({ capacity: 4, reserved: 0, held: 0 });
    expect(events.at(-1)).toMatchObject({
      type: 'HoldExpired',
      data: { reservationId: 'slow-4f9c2a7e1b8', expiresAt: dueAt.toISOString(), expiredAt: dueAt.toISOString() },
    });
    await catchUp(service.projector);
    const slow = await body(service.app.request('/conferences/late/reservations/slow-4f9c2a7e1b8'));
    expect(slow).toMatchObject({ status: 'expired', expiredAt: dueAt.toISOString() });
    expect(await readDueHolds(db.sql, now, 10)).toEqual([]);
    // The seats are back on sale.
    expect((await post('/conferences/late/holds', { seats: seats(4) })).status).toBe(201);
  });

  it('answers a hold longer than the maximum, or of zero seconds, with 400', async () => {
    for (const holdSeconds of [0, 3601, 1.5]) {
      const response = await post('/conferences/late/holds', { seats: seats(1), holdSeconds });
      expect(response.status).toBe(400);
      expect((await body(response)).error).toBe('invalid_request');
    }
  });
});

describe.each([
  { path: 'batched', bookings: () => service.bookings },
  {
    path: 'direct',
    bookings: () => eventSourcedBookings(service.directHandlers, service, service.readModel, service.attendees),
  },
])('holds racing at one conference ($path write path)', ({ path, bookings }) => {
  it('keeps reserved + held within capacity at every version, returns every released and expired seat once, and the views agree', async () => {
    const conferenceId = `race-holds-${path}`;
    await createConference(bookings(), conferenceId, 60);
    const start = now;
    const visitors = Array.from({ length: 120 }, (_, i) => `v${i}`);
    const attempt = async (command: () => Promise<unknown>) => {
      try {
        return await command();
      } catch (error) {
        if (error instanceof BusyError) return 'busy';
        throw error;
      }
    };
    // Every visitor holds 1 seat for 60 s; demand is twice the capacity.
    await Promise.all(
      visitors.map((reservationId) =>
        attempt(() => bookings().holdSeats({ conferenceId, reservationId, seats: seats(1), holdSeconds: 60 }, {})),
      ),
    );
    // Then, all at once: some confirm, some release, some confirm and release at the same time,
    // and the expirer comes for the rest, past their due time (the confirms racing it are late).
    now = new Date(start.getTime() + 30_000);
    const settle = visitors.map((reservationId, i) => {
      const key = { conferenceId, reservationId };
      if (i % 4 === 0) return attempt(() => bookings().confirmReservation(key, {}));
      if (i % 4 === 1) return attempt(() => bookings().releaseHold(key, {}));
      if (i % 4 === 2)
        return Promise.all([
          attempt(() => bookings().confirmReservation(key, {})),
          attempt(() => bookings().releaseHold(key, {})),
        ]);
      return undefined;
    });
    await catchUp(service.projector);
    now = new Date(start.getTime() + 61_000);
    const expiring = (async () => {
      while ((await service.expirer.expireDue()) > 0) await catchUp(service.projector);
    })();
    await Promise.all([...settle, expiring]);
    await catchUp(service.projector);
    while ((await service.expirer.expireDue()) > 0) await catchUp(service.projector);

    const { events, counts, reservations } = await recorded(conferenceId);
    expectWithinCapacityAtEveryVersion(events);
    expect(counts.held).toBe(0);
    expect(counts.reserved).toBe(seatsAt(reservations, 'reserved', 'confirmed'));
    expect(counts.reserved).toBeGreaterThan(0);
    // Each hold ended once: one SeatsHeld, then at most one of confirm, release or expiry.
    for (const [id] of reservations) {
      const own = events
        .filter((e) => e.type !== 'ConferenceCreated' && e.data.reservationId === id)
        .map((e) => e.type);
      expect(own[0]).toBe('SeatsHeld');
      expect(own.length).toBeLessThanOrEqual(2);
    }
    const ended = (status: string) => [...reservations.values()].filter((r) => r.status === status).length;
    expect(ended('expired')).toBeGreaterThan(0);
    expect(ended('held')).toBe(0);

    const strong = await bookings().availability(conferenceId, 'strong');
    expect(strong?.seatTypes).toEqual([
      { type: 'standard', capacity: 60, reserved: counts.reserved, held: 0, remaining: 60 - counts.reserved },
    ]);
    const eventual = await bookings().availability(conferenceId, 'eventual');
    expect(eventual?.seatTypes).toEqual(strong?.seatTypes);
    const page = await bookings().reservations(conferenceId, { after: '', limit: 1000 });
    expect(new Map(page?.map((r) => [r.reservationId, r.status]))).toEqual(
      new Map([...reservations].map(([id, r]) => [id, r.status])),
    );
  });
});

describe('hold expiry across restarts and processes', () => {
  it('expires the holds that fell due while the service was down, from the events alone', async () => {
    const conferenceId = 'restart';
    await createConference(service.bookings, conferenceId, 10);
    for (const reservationId of ['a', 'b', 'c']) {
      await service.bookings.holdSeats({ conferenceId, reservationId, seats: seats(2), holdSeconds: 5 }, {});
    }
    await catchUp(service.projector);

    // A new service on the same database, as after a restart, and the due times long past.
    now = later(3600);
    const pool = connect(db.url, 4);
    const restarted = createTestService(pool, { clock });
    try {
      restarted.projector.start();
      restarted.expirer.start();
      await eventually(async () => expect((await recorded(conferenceId)).counts.held).toBe(0), 5000);
    } finally {
      await restarted.expirer.stop();
      await restarted.projector.stop();
      restarted.close();
      await pool.end();
    }
    const { reservations } = await recorded(conferenceId);
    expect([...reservations.values()].map((r) => r.status)).toEqual(['expired', 'expired', 'expired']);
  });

  it('lets one of two processes expire each hold, exactly once', async () => {
    const conferenceId = 'two-processes';
    await createConference(service.bookings, conferenceId, 100);
    for (let i = 0; i < 40; i++) {
      await service.bookings.holdSeats({ conferenceId, reservationId: `t${i}`, seats: seats(1), holdSeconds: 10 }, {});
    }
    await catchUp(service.projector);
    now = later(10);

    const pools = [connect(db.url, 4), connect(db.url, 4)];
    const processes = pools.map((pool) => createTestService(pool, { clock }));
    try {
      for (const process of processes) process.expirer.start();
      processes[0]!.projector.start();
      await eventually(async () => expect((await recorded(conferenceId)).counts.held).toBe(0), 10_000);
      expect(processes.filter((process) => process.expirer.isLeader)).toHaveLength(1);
    } finally {
      for (const process of processes) {
        await process.expirer.stop();
        await process.projector.stop();
        process.close();
      }
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const { events } = await recorded(conferenceId);
    const expiries = events.filter((e) => e.type === 'HoldExpired');
    expect(expiries).toHaveLength(40);
    expect(new Set(expiries.map((e) => (e.type === 'HoldExpired' ? e.data.reservationId : '')))).toHaveProperty(
      'size',
      40,
    );
  });
});
