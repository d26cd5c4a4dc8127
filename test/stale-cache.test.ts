import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../src/database/connect.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService, operatorAuth } from './support/service.js';
import { viewContents } from './support/views.js';

/**
 * The batched writer answers from a cached state. Whatever else writes the same stream (the
 * direct path of the same process, another process with its own pool and cache), every answer
 * must be the one the store's current state calls for.
 */
let db: TestDatabase;
let otherPool: Sql;
beforeAll(async () => {
  db = await createTestDatabase();
  otherPool = connect(db.url, 5);
});
afterAll(async () => {
  await otherPool?.end({ timeout: 5 });
  await db?.drop();
});

type App = ReturnType<typeof createTestService>['app'];
const send = (app: App, method: string, path: string, body?: unknown) =>
  app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...operatorAuth },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const reserve = (app: App, base: string, conferenceId: string, reservationId: string, quantity = 1) =>
  send(app, 'POST', `${base}/${conferenceId}/reservations`, {
    reservationId,
    seats: [{ seatType: 'standard', quantity }],
  });
const cancel = (app: App, base: string, conferenceId: string, reservationId: string) =>
  send(app, 'DELETE', `${base}/${conferenceId}/reservations/${reservationId}`);
const create = (app: App, base: string, id: string, capacity: number) =>
  send(app, 'POST', base, { id, name: id, seatTypes: [{ type: 'standard', capacity }] });
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

describe('batched writer answers from the stream, not from a stale cache', () => {
  it('reserves a seat freed by a cancel on the direct path of the same process', async () => {
    const { app, metrics } = createTestService(db.sql);
    expect((await create(app, '/conferences', 'freed-direct', 1)).status).toBe(201);
    expect((await reserve(app, '/conferences', 'freed-direct', 'r1-4f9c2a7e1b8d6')).status).toBe(201);
    const soldOut = await reserve(app, '/conferences', 'freed-direct', 'r2-4f9c2a7e1b8d6');
    expect(soldOut.status).toBe(409);
    expect(await errorOf(soldOut)).toBe('insufficient_seats');
    expect((await cancel(app, '/direct/conferences', 'freed-direct', 'r1-4f9c2a7e1b8d6')).status).toBe(200);

    expect((await reserve(app, '/conferences', 'freed-direct', 'r2-4f9c2a7e1b8d6')).status).toBe(201);
    expect((await metrics.staleCaches.get()).values[0]?.value).toBe(1);
  });

  it('answers what another process (own pool, own cache) did to a reservation', async () => {
    const here = createTestService(db.sql).app;
    const there = createTestService(otherPool).app;
    expect((await create(here, '/conferences', 'two-processes', 10)).status).toBe(201);
    expect((await reserve(here, '/conferences', 'two-processes', 'warm-4f9c2a7e1b8')).status).toBe(201); // cached here

    // A reservation made there is cancelled here: 200, not 404.
    expect((await reserve(there, '/conferences', 'two-processes', 'made-there-4f9c2')).status).toBe(201);
    expect((await cancel(here, '/conferences', 'two-processes', 'made-there-4f9c2')).status).toBe(200);

    // A reservation cancelled there cannot be repeated here: 409, not a 200 "reserved".
    expect((await reserve(here, '/conferences', 'two-processes', 'cancelled-there-4', 2)).status).toBe(201);
    expect((await cancel(there, '/conferences', 'two-processes', 'cancelled-there-4')).status).toBe(200);
    const repeat = await reserve(here, '/conferences', 'two-processes', 'cancelled-there-4', 2);
    expect(repeat.status).toBe(409);
    expect(await errorOf(repeat)).toBe('reservation_conflict');

    const strong = (await (
      await send(here, 'GET', '/conferences/two-processes/availability?consistency=strong')
    ).json()) as {
      seatTypes: { reserved: number }[];
    };
    expect(strong.seatTypes[0]?.reserved).toBe(1); // only 'warm-4f9c2a7e1b8' holds a seat
  });

  it('finds a conference created elsewhere after it answered 404 for it', async () => {
    const here = createTestService(db.sql).app;
    const there = createTestService(otherPool).app;
    const early = await reserve(here, '/conferences', 'created-later', 'early-4f9c2a7e1b');
    expect(early.status).toBe(404);
    expect(await errorOf(early)).toBe('conference_not_found');
    expect((await create(there, '/conferences', 'created-later', 3)).status).toBe(201);

    expect((await reserve(here, '/conferences', 'created-later', 'early-4f9c2a7e1b')).status).toBe(201);
  });

  it('sells exactly the seats freed elsewhere when 200 reservations race at a sold-out conference', async () => {
    const here = createTestService(db.sql);
    const there = createTestService(otherPool);
    await here.handlers.createConference({
      conferenceId: 'freed-race',
      name: 'Race',
      seatTypes: [{ type: 'standard', capacity: 40 }],
    });
    const sold = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        here.handlers.reserveSeats({
          conferenceId: 'freed-race',
          reservationId: `sold-${i}`,
          seats: [{ seatType: 'standard', quantity: 1 }],
        }),
      ),
    );
    expect(sold.every((o) => o.kind === 'accepted' && o.appended === 1)).toBe(true);
    // Both caches now know the conference is sold out.
    const refused = await there.handlers.reserveSeats({
      conferenceId: 'freed-race',
      reservationId: 'refused-4f9c2a7e',
      seats: [{ seatType: 'standard', quantity: 1 }],
    });
    expect(refused.kind === 'rejected' && refused.rejection.kind).toBe('insufficient_seats');
    // Ten seats are freed through the direct path, which neither cache sees.
    for (let i = 0; i < 10; i++) {
      await there.directHandlers.cancelReservation({ conferenceId: 'freed-race', reservationId: `sold-${i}` });
    }

    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? here : there).handlers.reserveSeats({
          conferenceId: 'freed-race',
          reservationId: `late-${i}`,
          seats: [{ seatType: 'standard', quantity: 1 }],
        }),
      ),
    );
    const created = outcomes.filter((o) => o.kind === 'accepted' && o.appended === 1);
    expect(created).toHaveLength(10);
    expect(outcomes.filter((o) => o.kind === 'rejected' && o.rejection.kind === 'insufficient_seats')).toHaveLength(
      190,
    );

    const events = await here.eventStore.readStream(streamIdOf('freed-race'));
    const reservedIds = events.filter((e) => e.type === 'SeatsReserved').length;
    const cancelled = events.filter((e) => e.type === 'ReservationCancelled').length;
    expect(reservedIds - cancelled).toBe(40);
    expect((await here.bookings.availability('freed-race', 'strong'))?.seatTypes[0]).toMatchObject({
      reserved: 40,
      remaining: 0,
    });
    await catchUp(here.projector);
    const views = await viewContents(db.sql);
    expect(views.seats.find((s) => s.conference_id === 'freed-race')).toMatchObject({ reserved: 40, remaining: 0 });
    expect(views.reservations.filter((r) => r.conference_id === 'freed-race' && r.status === 'reserved')).toHaveLength(
      40,
    );
  });
});
