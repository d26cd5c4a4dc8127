import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../src/http/app-env.js';
import { connect } from '../src/database/connect.js';
import { liveRoutes } from '../src/http/live-routes.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService, operatorAuth, quietLog } from './support/service.js';
import { eventually } from './support/views.js';

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql);
  // As main.ts does: the projector's batches reach this service's readers through PostgreSQL.
  await service.changedViews.start();
});
afterAll(async () => {
  await service?.changedViews.stop();
  await db?.drop();
});

type Message = { event?: string; data?: string; comment?: string };

/** Reads a text/event-stream answer message by message; `close()` is the client going away. */
const readEvents = (response: Response) => {
  if (!response.body) throw new Error('the answer has no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  const next = async (timeoutMs = 10_000): Promise<Message> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffered.indexOf('\n\n');
      if (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        return parse(block);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>(
          (_, fail) => (timer = setTimeout(() => fail(new Error(`no event within ${timeoutMs} ms`)), left)),
        ),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error('the stream ended');
      buffered += chunk.value;
    }
  };
  /** The next `availability` event's data, skipping heartbeats. */
  const nextAvailability = async (timeoutMs?: number) => {
    for (;;) {
      const message = await next(timeoutMs);
      if (message.event === 'availability') return JSON.parse(message.data ?? 'null');
    }
  };
  return { next, nextAvailability, close: () => reader.cancel(), ended: () => reader.read() };
};

const parse = (block: string): Message => {
  const message: Message = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) message.comment = line.slice(1).trim();
    else if (line.startsWith('event: ')) message.event = line.slice('event: '.length);
    else if (line.startsWith('data: '))
      message.data = (message.data === undefined ? '' : `${message.data}\n`) + line.slice(6);
  }
  return message;
};

const send = (method: string, path: string, body?: unknown, to: Pick<typeof service, 'app'> = service) =>
  to.app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...operatorAuth },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const createConference = async (id: string) => {
  const response = await send('POST', '/conferences', {
    id,
    name: `Conference ${id}`,
    seatTypes: [
      { type: 'standard', capacity: 10 },
      { type: 'vip', capacity: 2 },
    ],
  });
  expect(response.status).toBe(201);
};

const reserve = async (conferenceId: string, reservationId: string, quantity: number, to = service) => {
  const response = await send(
    'POST',
    `/conferences/${conferenceId}/reservations`,
    { reservationId, seats: [{ seatType: 'standard', quantity }] },
    to,
  );
  expect(response.status).toBe(201);
};

const openStream = async (conferenceId: string, to: Pick<typeof service, 'app'> = service) => {
  const response = await to.app.request(`/conferences/${conferenceId}/stream`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return readEvents(response);
};

describe('GET /conferences/:id/stream', () => {
  it('sends the availability view as its first event on connect', async () => {
    await createConference('live-first');
    await catchUp(service.projector);
    const expected = await (await send('GET', '/conferences/live-first/availability')).json();
    const stream = await openStream('live-first');
    try {
      expect(await stream.nextAvailability()).toEqual(expected);
      expect(expected).toMatchObject({
        conferenceId: 'live-first',
        seatTypes: [
          { type: 'standard', capacity: 10, reserved: 0, held: 0, remaining: 10 },
          { type: 'vip', capacity: 2, reserved: 0, held: 0, remaining: 2 },
        ],
        position: expect.any(Number),
      });
    } finally {
      await stream.close();
    }
  });

  it('waits for a conference that is stored but not projected yet', async () => {
    await createConference('live-unprojected');
    const stream = await openStream('live-unprojected');
    try {
      const first = stream.nextAvailability();
      await catchUp(service.projector);
      expect(await first).toMatchObject({ conferenceId: 'live-unprojected', position: expect.any(Number) });
    } finally {
      await stream.close();
    }
  });

  it('sends the view again once a reservation is projected', async () => {
    await createConference('live-update');
    await catchUp(service.projector);
    const stream = await openStream('live-update');
    try {
      const first = await stream.nextAvailability();
      await reserve('live-update', 'r1-4f9c2a7e1b8d6', 3);
      await catchUp(service.projector);
      const second = await stream.nextAvailability();
      expect(second.position).toBeGreaterThan(first.position);
      expect(second.seatTypes[0]).toEqual({ type: 'standard', capacity: 10, reserved: 3, held: 0, remaining: 7 });

      const cancelled = await send('DELETE', '/conferences/live-update/reservations/r1-4f9c2a7e1b8d6');
      expect(cancelled.status).toBe(200);
      await catchUp(service.projector);
      expect((await stream.nextAvailability()).seatTypes[0]).toMatchObject({ reserved: 0, remaining: 10 });
    } finally {
      await stream.close();
    }
  });

  it('follows the remaining-seats projection: a reservation is sent while the reservations view has not applied it', async () => {
    await createConference('live-seats-first');
    await catchUp(service.projector);
    const stream = await openStream('live-seats-first');
    try {
      await stream.nextAvailability();
      await reserve('live-seats-first', 'r1-4f9c2a7e1b8d6', 2);
      await catchUp(service.projector.seats);
      expect((await stream.nextAvailability()).seatTypes[0]).toMatchObject({ reserved: 2, remaining: 8 });
      expect(await service.readModel.reservation('live-seats-first', 'r1-4f9c2a7e1b8d6')).toBeUndefined();
      await catchUp(service.projector.reservations);
      expect(await service.readModel.reservation('live-seats-first', 'r1-4f9c2a7e1b8d6')).toMatchObject({
        status: 'reserved',
      });
    } finally {
      await stream.close();
    }
  });

  it("wakes a reader of one API process when another process's projector applies a reservation made there", async () => {
    await createConference('live-elsewhere');
    await catchUp(service.projector);
    // Process B, on a pool of its own, serves the reader and projects nothing; it re-reads on its
    // own only once a minute, so an update within the deadline below can only come from a notification.
    const readerSql = connect(db.url, 3);
    const reader = createTestService(readerSql, { liveTiming: { recheckMs: 60_000, heartbeatMs: 60_000 } });
    await reader.changedViews.start();
    const stream = await openStream('live-elsewhere', reader);
    // Process A takes the reservation and applies it with a projector of its own.
    const writer = createTestService(db.sql);
    try {
      await stream.nextAvailability();
      await reserve('live-elsewhere', 'r1-4f9c2a7e1b8d6', 1, writer);
      await catchUp(writer.projector.seats);
      expect((await stream.nextAvailability(5_000)).seatTypes[0]).toMatchObject({ reserved: 1, remaining: 9 });
    } finally {
      await stream.close();
      await reader.changedViews.stop();
      reader.close();
      writer.close();
      await readerSql.end({ timeout: 5 });
    }
  });

  it('answers 404 conference_not_found before opening a stream for an unknown conference', async () => {
    const response = await service.app.request('/conferences/live-nowhere/stream');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ error: 'conference_not_found' });
  });

  it('answers 400 invalid_request for an invalid conference id', async () => {
    const response = await service.app.request('/conferences/Not_Valid/stream');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('removes its listener when the client disconnects', async () => {
    await createConference('live-disconnect');
    await catchUp(service.projector);
    const before = service.viewsChanged.listenerCount;
    const stream = await openStream('live-disconnect');
    await stream.nextAvailability();
    expect(service.viewsChanged.listenerCount).toBe(before + 1);
    await stream.close();
    await eventually(async () => expect(service.viewsChanged.listenerCount).toBe(before), 5_000);
  });

  it('ends open streams when the server shuts down', async () => {
    await createConference('live-shutdown');
    await catchUp(service.projector);
    const closing = createTestService(db.sql);
    const response = await closing.app.request('/conferences/live-shutdown/stream');
    const stream = readEvents(response);
    await stream.nextAvailability();
    expect(closing.viewsChanged.listenerCount).toBe(1);
    closing.closeLiveStreams();
    expect(await stream.ended()).toMatchObject({ done: true });
    expect(closing.viewsChanged.listenerCount).toBe(0);
  });

  it('lets a listening server close at once: the stream ends and its connection is not kept', async () => {
    await createConference('live-server');
    await catchUp(service.projector);
    const closing = createTestService(db.sql);
    const server = serve({ fetch: closing.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((listening) => server.once('listening', listening));
    const { port } = server.address() as AddressInfo;
    const stream = readEvents(await fetch(`http://127.0.0.1:${port}/conferences/live-server/stream`));
    await stream.nextAvailability();
    const closed = new Promise<void>((done) => server.close(() => done()));
    closing.closeLiveStreams();
    // Within a second, not after the client's keep-alive timeout.
    await Promise.race([
      closed,
      new Promise((_, fail) => setTimeout(() => fail(new Error('the server did not close')), 1000).unref()),
    ]);
  });

  it('sends a heartbeat comment while nothing changes', async () => {
    await createConference('live-heartbeat');
    await catchUp(service.projector);
    const app = new Hono<AppEnv>().route(
      '/conferences',
      liveRoutes({
        eventStore: service.eventStore,
        readModel: service.readModel,
        viewsChanged: service.viewsChanged,
        closing: new AbortController().signal,
        log: quietLog,
        timing: { heartbeatMs: 100, recheckMs: 50 },
      }),
    );
    const stream = readEvents(await app.request('/conferences/live-heartbeat/stream'));
    try {
      expect((await stream.next()).event).toBe('availability');
      expect(await stream.next()).toEqual({ comment: 'heartbeat' });
    } finally {
      await stream.close();
    }
  });
});
