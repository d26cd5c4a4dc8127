import { connect as connectTcp, type AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerClientErrors, type ClientTimeouts } from '../src/http/client-errors.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { capturingLog, createTestService, operatorAuth, TEST_OPERATOR_TOKEN } from './support/service.js';
import { eventually } from './support/views.js';

type LogLine = { level: number; msg: string } & Record<string, unknown>;
/** Every line the service logs, to check what a bad request leaves in the log. */
const logLines: LogLine[] = [];
const ERROR_LEVEL = 50;

const log = capturingLog('debug', (line) => logLines.push(JSON.parse(line) as LogLine));

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql, { log });
  const created = await send('POST', '/conferences', {
    id: 'bad-input',
    name: 'Bad input',
    seatTypes: [{ type: 'standard', capacity: 10 }],
  });
  expect(created.status).toBe(201);
});
afterAll(() => db?.drop());

const send = (
  method: string,
  path: string,
  body?: unknown,
  contentType: string | null = 'application/json',
  headers: Record<string, string> = operatorAuth,
) =>
  service.app.request(path, {
    method,
    headers: { ...headers, ...(contentType === null ? {} : { 'content-type': contentType }) },
    // Bytes, not a string: a string body would get a text/plain Content-Type from Request itself.
    ...(body === undefined ? {} : { body: new TextEncoder().encode(JSON.stringify(body)) }),
  });

/** An error answer is a Problem Details document with our code; returns the document. */
const expectProblem = async (response: Response, status: number, error: string) => {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem).toMatchObject({ status, error, type: expect.any(String), title: expect.any(String) });
  expect(typeof problem.detail).toBe('string');
  expect(typeof problem.message).toBe('string');
  return problem;
};

describe('asOf', () => {
  it.each([
    ['year 0 (PostgreSQL has none)', '0000-01-01'],
    ['year 0 with an offset', '0000-01-01T00:00:00+01:00'],
    ['a time that is year 10000 in UTC', '9999-12-31T23:59:59-14:00'],
    ['a time before 1970 in UTC', '1970-01-01T00:30:00+01:00'],
    ['30 February', '2026-02-30'],
    ['29 February of a common year', '2025-02-29'],
    ['31 April', '2026-04-31'],
    ['month 13', '2026-13-01'],
    ['hour 24', '2026-11-21T24:00'],
    ['minute 60', '2026-11-21T10:60'],
    ['second 60', '2026-11-21T10:00:60Z'],
    ['an offset beyond +14:00', '2026-11-21T10:00:00+14:30'],
    ['an offset beyond -14:00', '2026-11-21T10:00:00-15:00'],
    ['offset minutes 60', '2026-11-21T10:00:00+01:60'],
  ])('answers 400 invalid_request for %s', async (_, asOf) => {
    const response = await send('GET', `/conferences/bad-input/availability?asOf=${encodeURIComponent(asOf)}`);
    const problem = await expectProblem(response, 400, 'invalid_request');
    expect(problem.message).toMatch(/asOf/);
  });

  // Accepted times reach the database: before the conference was created there is none (404).
  it.each([
    ['the first instant accepted', '1970-01-01T00:00:00Z', 404],
    ['29 February of a leap year', '2024-02-29T12:00:00.5+0100', 404],
    ['the last day, east of UTC', '9999-12-31T23:59:59+14:00', 200],
    ['the last instant accepted', '9999-12-31T23:59:59.999Z', 200],
  ])('reads the stream as of %s', async (_, asOf, status) => {
    const response = await send('GET', `/conferences/bad-input/availability?asOf=${encodeURIComponent(asOf)}`);
    expect(response.status, await response.clone().text()).toBe(status);
  });
});

describe('the media type of a JSON body', () => {
  const conference = { id: 'bad-input-typed', name: 'Typed', seatTypes: [{ type: 'standard', capacity: 3 }] };
  const reservation = { reservationId: 'typed-1-4f9c2a7e', seats: [{ seatType: 'standard', quantity: 1 }] };

  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain;charset=UTF-8'],
    ['form encoding (what curl -d sends)', 'application/x-www-form-urlencoded'],
    ['no Content-Type at all', null],
  ])('answers 415 unsupported_media_type to a JSON body sent as %s, and changes nothing', async (_, type) => {
    await expectProblem(await send('POST', '/conferences', conference, type), 415, 'unsupported_media_type');
    await expectProblem(
      await send('POST', '/conferences/bad-input/reservations', reservation, type),
      415,
      'unsupported_media_type',
    );
    await expectProblem(
      await send('GET', '/conferences/bad-input-typed/availability?consistency=strong'),
      404,
      'conference_not_found',
    );
    await expectProblem(
      await send('GET', '/conferences/bad-input/reservations/typed-1-4f9c2a7e'),
      404,
      'reservation_not_found',
    );
  });

  it('accepts application/json with parameters in any case, and +json types', async () => {
    expect((await send('POST', '/conferences', conference, 'Application/JSON; charset=utf-8')).status).toBe(201);
    const response = await send('POST', '/conferences/bad-input/reservations', reservation, 'application/vnd.x+json');
    expect(response.status).toBe(201);
  });
});

describe('hostile operator tokens', () => {
  const conference = { id: 'bad-input-token', name: 'Token', seatTypes: [{ type: 'standard', capacity: 1 }] };

  it.each([
    ['a 10,000-character token', `Bearer ${'a'.repeat(10_000)}`],
    ['the token with a tab before it', `Bearer\t${TEST_OPERATOR_TOKEN}`],
    [
      'the token twice, comma-joined as repeated headers are',
      `Bearer ${TEST_OPERATOR_TOKEN}, Bearer ${TEST_OPERATOR_TOKEN}`,
    ],
    ['the token in quotes', `Bearer "${TEST_OPERATOR_TOKEN}"`],
    ['the token with a Latin-1 character after it', `Bearer ${TEST_OPERATOR_TOKEN}\u00e9`],
    ['the token percent-encoded', `Bearer ${encodeURIComponent(`${TEST_OPERATOR_TOKEN}=`)}`],
    ['a Basic pair of the token', `Basic ${Buffer.from(`operator:${TEST_OPERATOR_TOKEN}`).toString('base64')}`],
  ])('answers 401 unauthorized to %s, and creates nothing', async (_, authorization) => {
    const response = await send('POST', '/conferences', conference, 'application/json', { authorization });
    await expectProblem(response, 401, 'unauthorized');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    await expectProblem(
      await send('GET', '/conferences/bad-input-token/availability?consistency=strong'),
      404,
      'conference_not_found',
    );
  });

  it('answers 401 before reading a body over the limit or of the wrong type', async () => {
    const big = { ...conference, name: 'x'.repeat(100_000) };
    const tooLarge = await send('POST', '/conferences', big, 'application/json', {});
    expect([401, 413]).toContain(tooLarge.status);
    await expectProblem(await send('POST', '/conferences', conference, 'text/plain', {}), 401, 'unauthorized');
  });

  it('never logs a token it was sent, right or wrong', async () => {
    logLines.length = 0;
    await send('POST', '/conferences', conference, 'application/json', { authorization: `Bearer ${'w'.repeat(40)}` });
    await send('GET', '/conferences/bad-input/events');
    const text = JSON.stringify(logLines);
    expect(text).not.toContain(TEST_OPERATOR_TOKEN);
    expect(text).not.toContain('w'.repeat(40));
  });
});

describe('guessable reservation ids', () => {
  const seats = [{ seatType: 'standard', quantity: 1 }];

  it.each([
    ['a two-character id, as the old examples had', 'r1'],
    ['fifteen characters', 'a'.repeat(15)],
    ['a counter', '000000000000042'],
  ])('answers 400 invalid_request to %s chosen by a client, for a reservation and a hold alike', async (_, id) => {
    for (const prefix of ['/conferences', '/crud/conferences']) {
      for (const route of ['reservations', 'holds']) {
        const response = await send(
          'POST',
          `${prefix}/bad-input/${route}`,
          { reservationId: id, seats },
          undefined,
          {},
        );
        const problem = await expectProblem(response, 400, 'invalid_request');
        expect(problem.message).toMatch(/reservationId must be 16-64 .*hard to guess/);
      }
    }
  });

  it('takes 16 characters, and a generated id is a random UUID', async () => {
    const chosen = await send('POST', '/conferences/bad-input/reservations', { reservationId: 'a'.repeat(16), seats });
    expect(chosen.status).toBe(201);
    const generated = await send('POST', '/conferences/bad-input/reservations', { seats });
    const { reservationId } = (await generated.json()) as { reservationId: string };
    expect(reservationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('still reaches, in a path, a short id stored before ids had to be long', async () => {
    await service.handlers.reserveSeats({ conferenceId: 'bad-input', reservationId: 'old-r1', seats });
    const cancelled = await send('DELETE', '/conferences/bad-input/reservations/old-r1', undefined, null, {});
    expect(cancelled.status).toBe(200);
  });
});

/** A real Node HTTP server around the app, as src/main.ts builds it. */
const startServer = async (timeouts: Partial<ClientTimeouts> = {}) => {
  // Node looks for expired requests this often; the default 30 s would make a timeout test slow.
  const server = serve({
    fetch: service.app.fetch,
    port: 0,
    hostname: '127.0.0.1',
    serverOptions: { connectionsCheckingInterval: 50 },
  });
  answerClientErrors(server, log, timeouts);
  await new Promise<void>((listening) => server.once('listening', listening));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
};

type RawExchange = { received: string; socket: ReturnType<typeof connectTcp> };

/**
 * Writes `text` on a new connection and collects what comes back until the server closes it or
 * the deadline passes; a reset or a refused write (the server stops reading a bad request) only
 * ends the exchange.
 */
const exchange = (port: number, text: string, { deadlineMs = 10_000, keepOpen = false } = {}) =>
  new Promise<RawExchange>((done) => {
    const socket = connectTcp(port, '127.0.0.1');
    let received = '';
    const finish = () => {
      clearTimeout(deadline);
      done({ received, socket });
    };
    const deadline = setTimeout(() => {
      socket.destroy();
      finish();
    }, deadlineMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {});
    socket.on('close', finish);
    socket.write(text);
    if (!keepOpen) socket.end();
  });

/** The status and the Problem Details document of a raw HTTP/1.1 answer; fails the test if it is not one. */
const rawProblem = (received: string) => {
  const [head = '', body = ''] = received.split('\r\n\r\n', 2);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  expect(status, `a status line in ${JSON.stringify(received.slice(0, 200))}`).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(head).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
  expect(head).toMatch(/\r\nconnection: close(\r\n|$)/i);
  const problem = JSON.parse(body) as Record<string, unknown>;
  expect(problem).toMatchObject({
    status,
    error: expect.any(String),
    type: expect.any(String),
    title: expect.any(String),
  });
  expect(typeof problem.detail).toBe('string');
  expect(typeof problem.message).toBe('string');
  return { status, problem };
};

const errorLines = () => logLines.filter((line) => line.level >= ERROR_LEVEL);

const requestsInFlight = async () => (await service.metrics.requestsInFlight.get()).values[0]?.value;

/** Waits until the app has answered (and so logged) every request it was handed. */
const appIdle = () => eventually(async () => expect(await requestsInFlight()).toBe(0));

describe('requests that Node rejects before the app sees them', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.close());
  beforeEach(() => {
    logLines.length = 0;
  });

  it.each([
    ['a 100 kB URL', `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'headers_too_large'],
    [
      'a 20 kB header',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'headers_too_large',
    ],
    [
      'Content-Length: abc',
      'POST /conferences/bad-input/reservations HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      400,
      'invalid_request',
    ],
    [
      'a bad chunk size',
      'POST /conferences/bad-input/reservations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      400,
      'invalid_request',
    ],
    ['a bare CR in a header value', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n', 400, 'invalid_request'],
    ['a bare LF in a header value', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n', 400, 'invalid_request'],
  ])('answers %s with a Problem Details document and closes the connection', async (_, request, status, error) => {
    const { received } = await exchange(server.port, request);
    expect(rawProblem(received)).toMatchObject({ status, problem: { error } });
    // The connection is gone, not the server: a new one is served as usual.
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok',
      database: 'up',
      projections: {
        remaining_seats: { events: expect.any(Number), milliseconds: expect.any(Number) },
        reservations: { events: expect.any(Number), milliseconds: expect.any(Number) },
      },
    });
    // The request that reached the app and was cut off under it (the bad chunk) is no server error.
    await appIdle();
    expect(errorLines()).toEqual([]);
  });

  it('keeps serving many bad requests in a row', async () => {
    for (let i = 0; i < 20; i++) {
      const { received } = await exchange(
        server.port,
        'POST /conferences/bad-input/reservations HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      );
      expect(rawProblem(received).status).toBe(400);
    }
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  });
});

describe('slow requests', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ headersTimeoutMs: 300, requestTimeoutMs: 300 });
  });
  afterAll(() => server?.close());

  it.each([
    [
      'a body that stops coming',
      'POST /conferences/bad-input/reservations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":',
    ],
    ['headers that stop coming', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1'],
  ])('answers %s with 408 request_timeout once the timeout passes', async (_, request) => {
    logLines.length = 0;
    const { received, socket } = await exchange(server.port, request, { keepOpen: true, deadlineMs: 10_000 });
    socket.destroy();
    expect(rawProblem(received)).toMatchObject({ status: 408, problem: { error: 'request_timeout' } });
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    await appIdle();
    expect(errorLines()).toEqual([]);
  });
});

describe('a client that closes the connection mid-request', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.close());

  it.each([
    ['a body shorter than its Content-Length', 'Content-Length: 200\r\n\r\n{"seats":'],
    ['a chunked body without its last chunk', 'Transfer-Encoding: chunked\r\n\r\n9\r\n{"seats":\r\n'],
  ])('is not logged as a server error: %s', async (_, rest) => {
    logLines.length = 0;
    const path = '/conferences/bad-input/reservations';
    const socket = connectTcp(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${rest}`);
    // Closed once the app is reading the body: its request line is logged when it is answered.
    await eventually(async () => expect(await requestsInFlight()).toBe(1));
    socket.destroy();
    let answered: LogLine | undefined;
    await eventually(async () => {
      answered = logLines.find((line) => line.msg === 'request' && line.path === path);
      expect(answered).toBeDefined();
    });
    expect(answered?.status).toBeLessThan(500);
    expect(errorLines()).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  });
});
