import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, type EventStore } from '../src/event-store/event-store.js';
import { VersionConflictError } from '../src/event-store/version-conflict-error.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase();
  store = createEventStore(db.sql);
});
afterAll(() => db?.drop());

const event = (n: number) => ({ type: 'Happened', data: { n }, metadata: { requestId: `req-${n}` } });

describe('event store', () => {
  it('appends events in order with increasing positions and 1-based stream versions', async () => {
    await store.append('s-order', 0, [event(1), event(2)]);
    await store.append('s-order', 2, [event(3)]);
    const events = await store.readStream('s-order');
    expect(events.map((e) => [e.streamVersion, (e.data as { n: number }).n])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const positions = events.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(3);
    expect(events[0]?.metadata).toEqual({ requestId: 'req-1' });
    expect(events[0]?.recordedAt).toBeInstanceOf(Date);
    expect(await store.streamVersion('s-order')).toBe(3);
  });

  it('rejects an append at a stale expected version and appends nothing', async () => {
    await store.append('s-stale', 0, [event(1), event(2)]);
    const before = await db.sql`select count(*)::int as n from events`;
    await expect(store.append('s-stale', 1, [event(3)])).rejects.toBeInstanceOf(VersionConflictError);
    await expect(store.append('s-stale', 0, [event(3)])).rejects.toBeInstanceOf(VersionConflictError);
    await expect(store.append('s-stale', 5, [event(3)])).rejects.toBeInstanceOf(VersionConflictError);
    await expect(store.append('s-missing', 2, [event(1)])).rejects.toBeInstanceOf(VersionConflictError);
    const after = await db.sql`select count(*)::int as n from events`;
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(await store.streamVersion('s-stale')).toBe(2);
    expect(await store.streamVersion('s-missing')).toBe(0);
  });

  it('lets exactly one of many concurrent appends at one version win, leaving no gaps in positions', async () => {
    await store.append('s-race', 0, [event(0)]);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => store.append('s-race', 1, [event(i), event(i + 100)])),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.every((r) => r.status === 'rejected' && r.reason instanceof VersionConflictError)).toBe(true);
    expect(await store.readStream('s-race')).toHaveLength(3);

    // Conflict losers drew no positions: the next append follows the winner's positions directly.
    const [winner] = await store.readStream('s-race', { afterVersion: 2 });
    const next = await store.append('s-other', 0, [event(1)]);
    expect(next.position).toBe((winner?.position ?? 0) + 1);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of events in the database itself', async () => {
    await store.append('s-immutable', 0, [event(1)]);
    await expect(db.sql`update events set data = '{}' where stream_id = 's-immutable'`).rejects.toThrow(/append-only/);
    await expect(db.sql`delete from events where stream_id = 's-immutable'`).rejects.toThrow(/append-only/);
    await expect(db.sql`truncate events`).rejects.toThrow(/append-only/);
    expect(await store.readStream('s-immutable')).toHaveLength(1);
  });

  it('reads a stream from a version, and all streams after a global position', async () => {
    const first = await store.append('s-read-a', 0, [event(1), event(2), event(3)]);
    await store.append('s-read-b', 0, [event(4)]);
    expect((await store.readStream('s-read-a', { afterVersion: 2 })).map((e) => e.streamVersion)).toEqual([3]);
    const all = await store.readAll(first.position - 1, 10);
    expect(all.map((e) => [e.streamId, e.streamVersion])).toEqual([
      ['s-read-a', 3],
      ['s-read-b', 1],
    ]);
    expect(await store.readAll(first.position - 1, 1)).toHaveLength(1);
  });

  it('names, for any point in time, the version of the latest event recorded by then', async () => {
    // Appends of one to four events (which share their recording time), some within one
    // millisecond, some a few apart: every branch of versionAt's search, at every boundary.
    for (let i = 0, version = 0; i < 30; i++) {
      const events = Array.from({ length: 1 + (i % 4) }, (_, j) => event(version + j + 1));
      version = (await store.append('s-as-of', version, events)).version;
      if (i % 3 === 0) await new Promise((later) => setTimeout(later, 2));
    }
    const recorded = await store.readStream('s-as-of');
    const times = recorded.map(({ recordedAt }) => recordedAt.getTime());
    // The latest event recorded within the point's millisecond or before it (the store keeps microseconds).
    const expected = (at: number) => recorded.filter((_, i) => times[i]! <= at).at(-1)?.streamVersion ?? 0;
    const points = [...new Set(times.flatMap((at) => [at - 1, at, at + 1]))];
    expect(new Set(times).size).toBeGreaterThan(5);
    expect(points.map((at) => expected(at))).toContain(0);
    const found = await Promise.all(points.map((at) => store.versionAt('s-as-of', new Date(at))));
    expect(found).toEqual(points.map((at) => expected(at)));
    expect(found.at(-1)).toBe(recorded.length);
    expect(await store.versionAt('s-never-appended', new Date())).toBe(0);
  });
});
