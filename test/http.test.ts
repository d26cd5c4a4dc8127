import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../src/database/connect.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService, operatorAuth } from './support/service.js';

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;
let app: ReturnType<typeof createTestService>['app'];

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql);
  app = service.app;
});
afterAll(() => db?.drop());

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...operatorAuth, ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

const createConference = (
  id: string,
  seatTypes = [
    { type: 'standard', capacity: 5 },
    { type: 'vip', capacity: 1 },
  ],
) => send('POST', '/conferences', { id, name: `Conference ${id}`, seatTypes });

// Test code reads answers loosely; the assertions say what shape they must have.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

/** Every error answer is a Problem Details document with our code and sentence, and no internals. */
const expectProblem = async (response: Response, status: number, error?: string) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const text = await response.text();
  const body = JSON.parse(text);
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(typeof body.detail).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(typeof body.error).toBe('string');
  if (error) expect(body.error).toBe(error);
  expect(text).not.toMatch(/\bat \w+ \(|node_modules|\.ts:\d+|select |insert |update |PostgresError/i);
  return body;
};

describe('POST /conferences', () => {
  it('creates a conference: 201 with its availability and a Location', async () => {
    const response = await createConference('http-create');
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/conferences/http-create/availability');
    expect(await json(response)).toMatchObject({
      conferenceId: 'http-create',
      name: 'Conference http-create',
      seatTypes: [
        { type: 'standard', capacity: 5, reserved: 0, held: 0, remaining: 5 },
        { type: 'vip', capacity: 1, reserved: 0, held: 0, remaining: 1 },
      ],
      position: expect.any(Number),
    });
  });

  it('answers 409 conference_exists for an id in use', async () => {
    await createConference('http-twice');
    await expectProblem(await createConference('http-twice'), 409, 'conference_exists');
  });

  it.each([
    ['a missing name', { id: 'x1', seatTypes: [{ type: 'a', capacity: 1 }] }],
    ['an id with capitals', { id: 'Bad', name: 'n', seatTypes: [{ type: 'a', capacity: 1 }] }],
    ['no seat types', { id: 'x2', name: 'n', seatTypes: [] }],
    [
      '21 seat types',
      { id: 'x3', name: 'n', seatTypes: Array.from({ length: 21 }, (_, i) => ({ type: `t${i}`, capacity: 1 })) },
    ],
    ['a negative capacity', { id: 'x4', name: 'n', seatTypes: [{ type: 'a', capacity: -1 }] }],
    ['a capacity over 10,000,000', { id: 'x5', name: 'n', seatTypes: [{ type: 'a', capacity: 10_000_001 }] }],
    [
      'a duplicate seat type',
      {
        id: 'x6',
        name: 'n',
        seatTypes: [
          { type: 'a', capacity: 1 },
          { type: 'a', capacity: 2 },
        ],
      },
    ],
    ['an unknown field', { id: 'x7', name: 'n', seatTypes: [{ type: 'a', capacity: 1 }], owner: 'me' }],
  ])('answers 400 invalid_request for %s', async (_, body) => {
    const problem = await expectProblem(await send('POST', '/conferences', body), 400, 'invalid_request');
    expect(problem.issues.length).toBeGreaterThan(0);
  });
});

describe('reservations', () => {
  beforeAll(async () => {
    expect((await createConference('http-res')).status).toBe(201);
  });
  const reserve = (body: unknown, conference = 'http-res') =>
    send('POST', `/conferences/${conference}/reservations`, body);

  it('reserves: 201 with the reservation, then 200 with the same answer for a repeat', async () => {
    const body = { reservationId: 'res-1-4f9c2a7e1b', seats: [{ seatType: 'standard', quantity: 2 }] };
    const first = await reserve(body);
    expect(first.status).toBe(201);
    const expected = {
      reservationId: 'res-1-4f9c2a7e1b',
      conferenceId: 'http-res',
      seats: body.seats,
      status: 'reserved',
    };
    expect(await json(first)).toEqual(expected);
    const repeat = await reserve(body);
    expect(repeat.status).toBe(200);
    expect(await json(repeat)).toEqual(expected);
  });

  it('generates a UUID reservation id when none is given', async () => {
    const response = await reserve({ seats: [{ seatType: 'standard', quantity: 1 }] });
    expect(response.status).toBe(201);
    const body = await json(response);
    expect(body.reservationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('location')).toBe(`/conferences/http-res/reservations/${body.reservationId}`);
  });

  it('answers 409 insufficient_seats with what remains of each requested type', async () => {
    await createConference('http-short', [
      { type: 'standard', capacity: 2 },
      { type: 'vip', capacity: 1 },
    ]);
    const problem = await expectProblem(
      await reserve(
        {
          seats: [
            { seatType: 'standard', quantity: 1 },
            { seatType: 'vip', quantity: 2 },
          ],
        },
        'http-short',
      ),
      409,
      'insufficient_seats',
    );
    expect(problem.remaining).toEqual([
      { seatType: 'standard', requested: 1, remaining: 2 },
      { seatType: 'vip', requested: 2, remaining: 1 },
    ]);
  });

  it('answers 409 reservation_conflict for an id reused with other seats', async () => {
    expect(
      (await reserve({ reservationId: 'res-reused-4f9c2', seats: [{ seatType: 'standard', quantity: 2 }] })).status,
    ).toBe(201);
    await expectProblem(
      await reserve({ reservationId: 'res-reused-4f9c2', seats: [{ seatType: 'standard', quantity: 1 }] }),
      409,
      'reservation_conflict',
    );
  });

  it('answers 404 for an unknown conference and 400 for an unknown seat type', async () => {
    await expectProblem(
      await reserve({ seats: [{ seatType: 'standard', quantity: 1 }] }, 'nope'),
      404,
      'conference_not_found',
    );
    await expectProblem(await reserve({ seats: [{ seatType: 'balcony', quantity: 1 }] }), 400, 'unknown_seat_type');
  });

  it('cancels: 200, again 200, and 404 for an unknown reservation; the seats come back', async () => {
    await reserve({ reservationId: 'res-c-4f9c2a7e1b', seats: [{ seatType: 'vip', quantity: 1 }] });
    const cancel = await send('DELETE', '/conferences/http-res/reservations/res-c-4f9c2a7e1b');
    expect(cancel.status).toBe(200);
    expect(await json(cancel)).toMatchObject({ reservationId: 'res-c-4f9c2a7e1b', status: 'cancelled' });
    expect((await send('DELETE', '/conferences/http-res/reservations/res-c-4f9c2a7e1b')).status).toBe(200);
    await expectProblem(await send('DELETE', '/conferences/http-res/reservations/ghost'), 404, 'reservation_not_found');
    await expectProblem(
      await send('DELETE', '/conferences/ghost/reservations/res-c-4f9c2a7e1b'),
      404,
      'conference_not_found',
    );
    // A cancelled id cannot be booked again.
    await expectProblem(
      await reserve({ reservationId: 'res-c-4f9c2a7e1b', seats: [{ seatType: 'vip', quantity: 1 }] }),
      409,
      'reservation_conflict',
    );
    const availability = await json(send('GET', '/conferences/http-res/availability?consistency=strong'));
    expect(availability.seatTypes.find((s: { type: string }) => s.type === 'vip')).toEqual({
      type: 'vip',
      capacity: 1,
      reserved: 0,
      held: 0,
      remaining: 1,
    });
  });

  it('stores the request id of the request that appended an event, and echoes it', async () => {
    await createConference('http-rid');
    const response = await send(
      'POST',
      '/conferences/http-rid/reservations',
      { reservationId: 'res-rid-4f9c2a7e', seats: [{ seatType: 'standard', quantity: 1 }] },
      { 'x-request-id': 'trace-123' },
    );
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    const { events } = await json(send('GET', '/conferences/http-rid/events?limit=1000'));
    expect(events.at(-1)).toMatchObject({ type: 'SeatsReserved', metadata: { requestId: 'trace-123' } });
  });
});

describe('hostile bodies', () => {
  beforeAll(async () => {
    await createConference('http-hostile');
  });
  const path = '/conferences/http-hostile/reservations';
  const seats = (quantity: unknown, seatType: unknown = 'standard') => ({ seats: [{ seatType, quantity }] });

  it.each([
    ['quantity as a string', seats('1'), 400, 'invalid_request'],
    ['a zero quantity', seats(0), 400, 'invalid_request'],
    ['a negative quantity', seats(-3), 400, 'invalid_request'],
    ['a fractional quantity', seats(1.5), 400, 'invalid_request'],
    ['a quantity over 100', seats(101), 400, 'invalid_request'],
    ['a huge quantity', seats(1e308), 400, 'invalid_request'],
    ['a NaN-like quantity', '{"seats":[{"seatType":"standard","quantity":NaN}]}', 400, 'malformed_json'],
    ['seat type as a number', seats(1, 7), 400, 'invalid_request'],
    ['a SQL-looking seat type', seats(1, "standard'; drop table events; --"), 400, 'invalid_request'],
    ['a SQL-looking reservation id', { reservationId: "1' or '1'='1", ...seats(1) }, 400, 'invalid_request'],
    [
      'a duplicate seat type',
      {
        seats: [
          { seatType: 'standard', quantity: 1 },
          { seatType: 'standard', quantity: 1 },
        ],
      },
      400,
      'invalid_request',
    ],
    ['no seats', { seats: [] }, 400, 'invalid_request'],
    ['seats as an object', { seats: { seatType: 'standard', quantity: 1 } }, 400, 'invalid_request'],
    ['an unknown field', { ...seats(1), discount: 100 }, 400, 'invalid_request'],
    [
      'an unknown field inside seats',
      { seats: [{ seatType: 'standard', quantity: 1, price: 0 }] },
      400,
      'invalid_request',
    ],
    ['an array body', [seats(1)], 400, 'invalid_request'],
    ['null', 'null', 400, 'invalid_request'],
    ['a string body', '"reserve"', 400, 'invalid_request'],
    ['malformed JSON', '{"seats": [', 400, 'malformed_json'],
    ['an empty body', '', 400, 'malformed_json'],
    [
      'a prototype-polluting key',
      '{"__proto__":{"admin":true},"seats":[{"seatType":"standard","quantity":1}]}',
      400,
      'invalid_request',
    ],
    ['a 2 MB body', { ...seats(1), padding: 'x'.repeat(2 * 1024 * 1024) }, 413, 'payload_too_large'],
  ])('answers %s with a clear %i %s', async (_, body, status, code) => {
    await expectProblem(await send('POST', path, body), status, code);
  });

  it('limits bodies over real HTTP, declared by Content-Length or sent in chunks', async () => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    try {
      await new Promise<void>((ready) => server.once('listening', ready));
      const { port } = server.address() as AddressInfo;
      const post = (body: string, chunked: boolean) =>
        new Promise<number>((answered, failed) => {
          const request = httpRequest(
            {
              port,
              host: '127.0.0.1',
              method: 'POST',
              path,
              headers: chunked
                ? { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }
                : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            },
            (response) => {
              response.resume();
              answered(response.statusCode ?? 0);
            },
          );
          request.on('error', failed);
          if (chunked) for (let at = 0; at < body.length; at += 4096) request.write(body.slice(at, at + 4096));
          else request.write(body);
          request.end();
        });
      const large = JSON.stringify({ ...seats(1), padding: 'x'.repeat(100_000) });
      expect(await post(large, false)).toBe(413);
      expect(await post(large, true)).toBe(413);
      expect(await post(JSON.stringify({ seats: [{ seatType: 'standard', quantity: 1 }] }), false)).toBe(201);
      expect(await post(JSON.stringify({ seats: [{ seatType: 'standard', quantity: 1 }] }), true)).toBe(201);
    } finally {
      await new Promise<void>((closed) => server.close(() => closed()));
    }
  });

  it('stays up and correct after hostile bodies: they book nothing', async () => {
    await createConference('http-hostile-after');
    const after = '/conferences/http-hostile-after/reservations';
    for (const body of [seats('1'), seats(0), '{"seats": [', [seats(1)], { ...seats(1), discount: 100 }]) {
      expect((await send('POST', after, body)).status).toBe(400);
    }
    expect((await send('POST', after, seats(1))).status).toBe(201);
    await catchUp(service.projector);
    const availability = await json(send('GET', '/conferences/http-hostile-after/availability'));
    expect(availability.seatTypes[0]).toMatchObject({ reserved: 1 });
  });

  it('answers 400 for a malformed path id and an unknown query parameter', async () => {
    await expectProblem(await send('GET', '/conferences/NOT_VALID/availability'), 400, 'invalid_request');
    await expectProblem(
      await send('GET', '/conferences/http-hostile/availability?consistency=maybe'),
      400,
      'invalid_request',
    );
    await expectProblem(await send('GET', '/conferences/http-hostile/events?limit=-1'), 400, 'invalid_request');
  });
});

describe('reads, audit trail and operations', () => {
  it('answers availability 200 (default and strong) and 404 for an unknown conference', async () => {
    await createConference('http-read');
    await catchUp(service.projector);
    for (const query of ['', '?consistency=strong']) {
      const response = await send('GET', `/conferences/http-read/availability${query}`);
      expect(response.status).toBe(200);
      expect(await json(response)).toMatchObject({ conferenceId: 'http-read', position: expect.any(Number) });
    }
    await expectProblem(await send('GET', '/conferences/ghost/availability'), 404, 'conference_not_found');
  });

  it('pages through the audit trail oldest first', async () => {
    await createConference('http-trail');
    for (let i = 0; i < 4; i++) {
      await send('POST', '/conferences/http-trail/reservations', { seats: [{ seatType: 'standard', quantity: 1 }] });
    }
    const first = await json(send('GET', '/conferences/http-trail/events?limit=3'));
    expect(first.events.map((e: { version: number }) => e.version)).toEqual([1, 2, 3]);
    expect(first.events[0]).toMatchObject({ type: 'ConferenceCreated', recordedAt: expect.any(String) });
    const after = first.events[2].position;
    const second = await json(send('GET', `/conferences/http-trail/events?after=${after}&limit=3`));
    expect(second.events.map((e: { version: number }) => e.version)).toEqual([4, 5]);
    expect(second.next).toBeUndefined();
    await expectProblem(await send('GET', '/conferences/ghost/events'), 404, 'conference_not_found');
  });

  it('answers 404 with a problem for an unknown route', async () => {
    await expectProblem(await send('GET', '/nowhere'), 404, 'not_found');
  });

  it('reports health 200 with a database, 503 without one', async () => {
    expect(await json(send('GET', '/healthz'))).toEqual({
      status: 'ok',
      database: 'up',
      projections: {
        remaining_seats: { events: expect.any(Number), milliseconds: expect.any(Number) },
        reservations: { events: expect.any(Number), milliseconds: expect.any(Number) },
      },
    });
    const unreachable = connect('postgres://nobody:secret@127.0.0.1:1/none', 1);
    try {
      const response = await createTestService(unreachable).app.request('/healthz');
      const problem = await expectProblem(response, 503, 'database_unavailable');
      expect(JSON.stringify(problem)).not.toContain('secret');
    } finally {
      await unreachable.end({ timeout: 1 });
    }
  });

  it('exposes Prometheus metrics for commands, conflicts and retries', async () => {
    await createConference('http-metrics');
    expect(
      (await send('POST', '/conferences/http-metrics/reservations', { seats: [{ seatType: 'standard', quantity: 1 }] }))
        .status,
    ).toBe(201);
    const response = await send('GET', '/metrics');
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const name of [
      'seat_surge_commands_total',
      'seat_surge_version_conflicts_total',
      'seat_surge_command_retries_total',
      'seat_surge_command_retries_exhausted_total',
      'seat_surge_command_duration_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/seat_surge_commands_total\{command="ReserveSeats",outcome="accepted"\} [1-9]/);
  });

  it('answers 503 busy with Retry-After when retries run out, and appends nothing for those', async () => {
    const impatient = createTestService(db.sql, {
      writePath: 'direct',
      retry: { maxRetries: 0, baseDelayMs: 0, maxDelayMs: 1500 },
    }).app;
    await impatient.request('/conferences', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operatorAuth },
      body: JSON.stringify({ id: 'http-busy', name: 'Busy', seatTypes: [{ type: 'standard', capacity: 1000 }] }),
    });
    const responses = await Promise.all(
      Array.from({ length: 40 }, async () =>
        impatient.request('/conferences/http-busy/reservations', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ seats: [{ seatType: 'standard', quantity: 1 }] }),
        }),
      ),
    );
    const busy = responses.filter((r) => r.status === 503);
    const created = responses.filter((r) => r.status === 201);
    expect(busy.length + created.length).toBe(40);
    expect(busy.length).toBeGreaterThan(0);
    for (const response of busy) {
      expect(response.headers.get('retry-after')).toBe('2');
      await expectProblem(response, 503, 'busy');
    }
    const availability = await json(send('GET', '/conferences/http-busy/availability?consistency=strong'));
    expect(availability.seatTypes[0].reserved).toBe(created.length);
  });
});

describe('read-side routes', () => {
  beforeAll(async () => {
    await createConference('http-views');
    await send('POST', '/conferences/http-views/reservations', {
      reservationId: 'v-1-4f9c2a7e1b8d',
      seats: [{ seatType: 'vip', quantity: 1 }],
    });
    await catchUp(service.projector);
  });

  it('lists conferences from the read side', async () => {
    const response = await send('GET', '/conferences');
    expect(response.status).toBe(200);
    const { conferences } = await json(response);
    expect(conferences).toContainEqual({
      conferenceId: 'http-views',
      name: 'Conference http-views',
      createdAt: expect.any(String),
      position: expect.any(Number),
    });
  });

  it('answers a reservation from the reservations view, 404 when unknown', async () => {
    const response = await send('GET', '/conferences/http-views/reservations/v-1-4f9c2a7e1b8d');
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      reservationId: 'v-1-4f9c2a7e1b8d',
      conferenceId: 'http-views',
      seats: [{ seatType: 'vip', quantity: 1 }],
      status: 'reserved',
      reservedAt: expect.any(String),
    });
    await expectProblem(await send('GET', '/conferences/http-views/reservations/ghost'), 404, 'reservation_not_found');
  });

  it('answers asOf: 200 replayed, 404 before the conference existed, 400 unparsable', async () => {
    const now = new Date(Date.now() + 60_000).toISOString();
    const current = await json(send('GET', `/conferences/http-views/availability?asOf=${now}`));
    expect(current.seatTypes.find((s: { type: string }) => s.type === 'vip')).toMatchObject({ reserved: 1 });
    await expectProblem(
      await send('GET', '/conferences/http-views/availability?asOf=2001-01-01T00:00:00Z'),
      404,
      'conference_not_found',
    );
    for (const bad of ['yesterday', '2026-13-45T99:99:99Z', '']) {
      await expectProblem(
        await send('GET', `/conferences/http-views/availability?asOf=${bad}`),
        400,
        'invalid_request',
      );
    }
    await expectProblem(
      await send('GET', `/conferences/http-views/availability?asOf=${now}&consistency=strong`),
      400,
      'invalid_request',
    );
  });
});

describe.each([
  { design: 'event-sourced', prefix: '/conferences' },
  { design: 'crud', prefix: '/crud/conferences' },
  { design: 'crud-atomic', prefix: '/crud-atomic/conferences' },
])('the same contract for the $design design', ({ design, prefix }) => {
  const id = `contract-${design}`;
  const reserve = (body: unknown) => send('POST', `${prefix}/${id}/reservations`, body);

  it('answers create, reserve, repeat, conflicts, cancel and lookups alike', async () => {
    const body = { id, name: 'Contract', seatTypes: [{ type: 'standard', capacity: 3 }] };
    expect((await send('POST', prefix, body)).status).toBe(201);
    await expectProblem(await send('POST', prefix, body), 409, 'conference_exists');

    const first = await reserve({ reservationId: 'c-1-4f9c2a7e1b8d', seats: [{ seatType: 'standard', quantity: 2 }] });
    expect(first.status).toBe(201);
    expect(await json(first)).toEqual({
      reservationId: 'c-1-4f9c2a7e1b8d',
      conferenceId: id,
      seats: [{ seatType: 'standard', quantity: 2 }],
      status: 'reserved',
    });
    expect(
      (await reserve({ reservationId: 'c-1-4f9c2a7e1b8d', seats: [{ seatType: 'standard', quantity: 2 }] })).status,
    ).toBe(200);
    await expectProblem(
      await reserve({ reservationId: 'c-1-4f9c2a7e1b8d', seats: [{ seatType: 'standard', quantity: 1 }] }),
      409,
      'reservation_conflict',
    );
    const short = await expectProblem(
      await reserve({ seats: [{ seatType: 'standard', quantity: 2 }] }),
      409,
      'insufficient_seats',
    );
    expect(short.remaining).toEqual([{ seatType: 'standard', requested: 2, remaining: 1 }]);
    await expectProblem(await reserve({ seats: [{ seatType: 'balcony', quantity: 1 }] }), 400, 'unknown_seat_type');
    await expectProblem(await reserve({ seats: [{ seatType: 'standard', quantity: 0 }] }), 400, 'invalid_request');
    await expectProblem(
      await send('POST', `${prefix}/ghost/reservations`, { seats: [{ seatType: 'standard', quantity: 1 }] }),
      404,
      'conference_not_found',
    );

    expect((await send('DELETE', `${prefix}/${id}/reservations/c-1-4f9c2a7e1b8d`)).status).toBe(200);
    expect((await send('DELETE', `${prefix}/${id}/reservations/c-1-4f9c2a7e1b8d`)).status).toBe(200);
    await expectProblem(await send('DELETE', `${prefix}/${id}/reservations/ghost`), 404, 'reservation_not_found');

    await catchUp(service.projector);
    const availability = await json(send('GET', `${prefix}/${id}/availability`));
    expect(availability.seatTypes).toEqual([{ type: 'standard', capacity: 3, reserved: 0, held: 0, remaining: 3 }]);
    const listed = await json(send('GET', `${prefix}/${id}/reservations?limit=10`));
    expect(listed.reservations).toEqual([
      {
        reservationId: 'c-1-4f9c2a7e1b8d',
        conferenceId: id,
        seats: [{ seatType: 'standard', quantity: 2 }],
        status: 'cancelled',
        reservedAt: expect.any(String),
        cancelledAt: expect.any(String),
      },
    ]);
    expect(await json(send('GET', `${prefix}/${id}/reservations/c-1-4f9c2a7e1b8d`))).toMatchObject({
      status: 'cancelled',
    });
    await expectProblem(await send('GET', `${prefix}/ghost/reservations`), 404, 'conference_not_found');
  });
});

describe('load-test ceiling probe', () => {
  it('answers a valid body 200 and rejects a bad one like the real routes', async () => {
    expect((await send('POST', '/loadtest/ceiling', { seats: [{ seatType: 'a', quantity: 1 }] })).status).toBe(200);
    await expectProblem(await send('POST', '/loadtest/ceiling', { seats: [] }), 400, 'invalid_request');
  });
});
