import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Projector, remainingSeats } from '../src/projections/index.js';
import {
  announceViewsChanged,
  notificationPayloads,
  streamIdsOf,
  VIEWS_CHANGED_CHANNEL,
} from '../src/projections/views-changed-channel.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, createTestService, operatorAuth, quietLog } from './support/service.js';
import { eventually } from './support/views.js';

const bytes = (text: string) => Buffer.byteLength(text);

describe('notificationPayloads', () => {
  it('sends nothing for a batch that changed no stream', () => {
    expect(notificationPayloads([])).toEqual([]);
  });

  it('names a few streams in one payload, one per line', () => {
    const ids = [streamIdOf('a'), streamIdOf('b')];
    expect(notificationPayloads(ids)).toEqual([`${ids[0]}\n${ids[1]}`]);
  });

  it("splits the largest batch's streams into payloads PostgreSQL accepts", () => {
    const ids = Array.from({ length: 5000 }, (_, i) => streamIdOf(`${i}`.padEnd(64, 'x')));
    const payloads = notificationPayloads(ids);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(bytes(payload)).toBeLessThan(8000);
    expect(payloads.flatMap(streamIdsOf)).toEqual(ids);
  });

  it('leaves out an id too long for any payload, and keeps the others', () => {
    expect(notificationPayloads(['a', 'x'.repeat(11), 'b'], 10)).toEqual(['a\nb']);
  });

  it('keeps every id that fits, in order, in as few payloads as greedy filling allows, each within the limit', () => {
    const id = fc.string({ maxLength: 30, unit: 'binary' }).filter((text) => !text.includes('\n'));
    fc.assert(
      fc.property(fc.array(id, { maxLength: 60 }), fc.integer({ min: 1, max: 120 }), (ids, maxBytes) => {
        const payloads = notificationPayloads(ids, maxBytes);
        for (const payload of payloads) expect(bytes(payload)).toBeLessThanOrEqual(maxBytes);
        expect(payloads.flatMap(streamIdsOf)).toEqual(ids.filter((text) => bytes(text) <= maxBytes));
        // Each payload but the last was closed because the next id would not fit in it.
        payloads.slice(0, -1).forEach((payload, i) => {
          const next = streamIdsOf(payloads[i + 1]!)[0]!;
          expect(bytes(payload) + 1 + bytes(next)).toBeGreaterThan(maxBytes);
        });
      }),
    );
  });
});

describe('the views-changed channel', () => {
  let db: TestDatabase;
  let service: ReturnType<typeof createTestService>;
  /** The stream ids of each signal this service's live readers were given, in order. */
  const received: string[][] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    service = createTestService(db.sql);
    service.viewsChanged.subscribe((streamIds) => received.push([...streamIds]));
    await service.changedViews.start();
  });
  afterAll(async () => {
    await service?.changedViews.stop();
    await db?.drop();
  });

  /**
   * Commits a notification of its own and waits for it: PostgreSQL delivers notifications in the
   * order their transactions committed, so any sent before it has arrived by then too.
   */
  const drain = async (): Promise<string[][]> => {
    await db.sql`select pg_notify(${VIEWS_CHANGED_CHANNEL}, 'drained')`;
    await eventually(async () => expect(received).toContainEqual(['drained']), 5_000);
    const signals = received.splice(0).filter((ids) => ids[0] !== 'drained');
    return signals;
  };

  const createConference = async (id: string) => {
    const response = await service.app.request('/conferences', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operatorAuth },
      body: JSON.stringify({ id, name: id, seatTypes: [{ type: 'standard', capacity: 10 }] }),
    });
    expect(response.status).toBe(201);
  };

  it('names nothing for a batch that rolls back, and its streams once it commits', async () => {
    await createConference('vc-first');
    await createConference('vc-second');
    await drain();
    const crashing = new Projector({
      sql: db.sql,
      log: quietLog,
      projection: remainingSeats,
      batchSize: 100,
      pollIntervalMs: 1000,
      announce: announceViewsChanged,
      beforeCommit: () => {
        throw new Error('process died');
      },
    });
    await expect(crashing.applyNextBatch()).rejects.toThrow('process died');
    expect(await drain()).toEqual([]);

    await catchUp(service.projector.seats);
    const signals = await drain();
    expect(signals.flat().sort()).toEqual([streamIdOf('vc-first'), streamIdOf('vc-second')]);
  });

  it('names nothing from the reservations projection', async () => {
    await createConference('vc-reservations');
    await catchUp(service.projector.seats);
    await drain();
    await catchUp(service.projector.reservations);
    expect(await drain()).toEqual([]);
  });

  it('delivers every stream of a batch too long for one notification', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => streamIdOf(`vc-${i}`.padEnd(64, 'x')));
    await db.sql.begin((tx) => announceViewsChanged(tx, { streamIds: ids }));
    const signals = await drain();
    expect(signals.length).toBeGreaterThan(1);
    expect(signals.flat()).toEqual(ids);
  });
});
