import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectorWakeUps, EVENTS_APPENDED_CHANNEL, wakeUpDelay } from '../src/event-store/projector-wake-ups.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService, quietLog } from './support/service.js';
import { eventually } from './support/views.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** Counts the wake-ups on the channel until `stop()`. */
const countWakeUps = async () => {
  const times: number[] = [];
  const listening = await db.sql.listen(EVENTS_APPENDED_CHANNEL, () => times.push(performance.now()));
  return { times, stop: () => listening.unlisten() };
};

const standard = (quantity: number) => [{ seatType: 'standard', quantity }];

describe('when appends wake the projectors', () => {
  it.each([
    { lastSentAt: Number.NEGATIVE_INFINITY, now: 0, intervalMs: 5, delay: 0, why: 'none sent yet: now' },
    { lastSentAt: 100, now: 102, intervalMs: 5, delay: 3, why: 'within the interval: at its end' },
    { lastSentAt: 100, now: 105, intervalMs: 5, delay: 0, why: 'the interval over: now' },
    { lastSentAt: 100, now: 100, intervalMs: 0, delay: 0, why: 'no interval: after every append' },
  ])('$why', ({ lastSentAt, now, intervalMs, delay }) => {
    expect(wakeUpDelay(lastSentAt, now, intervalMs)).toBe(delay);
  });

  it('sends one wake-up at once and one at the end of the interval, however many appends come within it', async () => {
    const wakeUps = createProjectorWakeUps(db.sql, { intervalMs: 300, log: quietLog });
    const heard = await countWakeUps();
    try {
      const start = performance.now();
      for (let i = 0; i < 50; i++) wakeUps.appended();
      await eventually(async () => expect(heard.times).toHaveLength(2), 5000);
      // The first went at once, the second waited out the interval (timers may fire a little early).
      expect(heard.times[0]! - start).toBeLessThan(250);
      expect(heard.times[1]! - start).toBeGreaterThanOrEqual(290);
      await new Promise((done) => setTimeout(done, 400));
      expect(heard.times).toHaveLength(2);
    } finally {
      await heard.stop();
    }
  });

  it('sends the waiting wake-up at once when flushed, and nothing when none waits', async () => {
    const wakeUps = createProjectorWakeUps(db.sql, { intervalMs: 60_000, log: quietLog });
    const heard = await countWakeUps();
    try {
      wakeUps.appended();
      wakeUps.appended();
      wakeUps.flush();
      wakeUps.flush();
      await eventually(async () => expect(heard.times).toHaveLength(2), 5000);
      await new Promise((done) => setTimeout(done, 200));
      expect(heard.times).toHaveLength(2);
    } finally {
      await heard.stop();
    }
  });

  it('wakes an idle projector: a reservation reaches the views long before its poll', async () => {
    const service = createTestService(db.sql, { projector: { pollIntervalMs: 60_000 } });
    service.projector.start();
    try {
      const conferenceId = 'woken';
      await service.bookings.createConference(
        { conferenceId, name: 'Woken', seatTypes: [{ type: 'standard', capacity: 10 }] },
        {},
      );
      await eventually(async () => expect(await service.readModel.availability(conferenceId)).toBeDefined(), 5000);
      // Both projectors have found nothing since, and sleep until woken (their poll is a minute away).
      await new Promise((done) => setTimeout(done, 300));
      const reserved = performance.now();
      await service.bookings.reserveSeats({ conferenceId, reservationId: 'r1', seats: standard(3) }, {});
      await eventually(
        async () => expect((await service.readModel.availability(conferenceId))?.seatTypes[0]?.remaining).toBe(7),
        5000,
      );
      expect(performance.now() - reserved).toBeLessThan(2000);
    } finally {
      await service.projector.stop();
      service.close();
    }
  });

  it('costs a few wake-ups, not one per append, while many commands race, and the views end exact', async () => {
    const service = createTestService(db.sql, { projector: { wakeIntervalMs: 50 } });
    service.projector.start();
    const heard = await countWakeUps();
    const conferences = Array.from({ length: 20 }, (_, i) => `racing-${i}`);
    try {
      for (const conferenceId of conferences) {
        await service.bookings.createConference(
          { conferenceId, name: conferenceId, seatTypes: [{ type: 'standard', capacity: 30 }] },
          {},
        );
      }
      const appendsBefore = await appendStatements(service);
      const start = performance.now();
      // 40 single-seat reservations per conference race for 30 seats each.
      const results = await Promise.all(
        conferences.flatMap((conferenceId) =>
          Array.from({ length: 40 }, (_, i) =>
            service.bookings
              .reserveSeats({ conferenceId, reservationId: `r${i}`, seats: standard(1) }, {})
              .then((result) => result.kind),
          ),
        ),
      );
      const elapsed = performance.now() - start;
      const appends = (await appendStatements(service)) - appendsBefore;
      expect(results.filter((kind) => kind === 'ok')).toHaveLength(20 * 30);
      // At most one wake-up per interval, plus the one after the last append, from this process.
      await new Promise((done) => setTimeout(done, 100));
      const wakeUps = heard.times.filter((time) => time >= start).length;
      expect(wakeUps).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
      expect(wakeUps).toBeLessThan(appends);
      // The views end exact: the projectors polled while they found events.
      await eventually(async () => {
        for (const conferenceId of conferences) {
          const view = await service.readModel.availability(conferenceId);
          expect(view?.seatTypes[0]).toMatchObject({ reserved: 30, remaining: 0 });
        }
      }, 10_000);
      await eventually(async () => {
        const [row] = await db.sql<{ count: number }[]>`
          select count(*)::int as count from reservations_view where conference_id like 'racing-%'`;
        expect(row?.count).toBe(20 * 30);
      }, 10_000);
    } finally {
      await heard.stop();
      await service.projector.stop();
      service.close();
    }
  });
});

/** Append statements sent so far: the group commit's histogram counts one per statement. */
const appendStatements = async (service: ReturnType<typeof createTestService>) => {
  const metric = await service.metrics.registry.getSingleMetricAsString('seat_surge_append_conferences');
  const count = /_count(?:\{[^}]*\})? (\d+)/.exec(metric)?.[1];
  if (count === undefined) throw new Error(`no count in ${metric}`);
  return Number(count);
};
