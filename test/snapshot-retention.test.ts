import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  toSeatAvailabilityEvent,
} from '../src/command-handlers/index.js';
import { evolveAll, initialState, streamIdOf } from '../src/seat-availability/index.js';
import {
  createSnapshots,
  pruneSnapshots,
  keptSnapshots,
  toSnapshot,
  writeSnapshot,
  type SnapshotKeep,
} from '../src/snapshots/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService, quietLog } from './support/service.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(16);
});
afterAll(() => db?.drop());

let conferences = 0;
const newConferenceId = () => `keep-${++conferences}`;

const keptVersions = async (streamId: string) =>
  (
    await db.sql<{ version: number }[]>`select version from snapshots where stream_id = ${streamId} order by version`
  ).map((row) => row.version);

/** A conference with `count` reservations of one seat each, one command (and one transaction) per event. */
const playReservations = async (service: ReturnType<typeof createTestService>, conferenceId: string, count: number) => {
  await service.handlers.createConference({
    conferenceId,
    name: 'Retention test',
    seatTypes: [{ type: 'standard', capacity: 1000 }],
  });
  for (let i = 0; i < count; i++) {
    if (i % 7 === 6) await service.handlers.cancelReservation({ conferenceId, reservationId: `r${i - 3}` });
    else
      await service.handlers.reserveSeats({
        conferenceId,
        reservationId: `r${i}`,
        seats: [{ seatType: 'standard', quantity: 1 + (i % 3) }],
      });
    // One write at a time per stream (a due one is skipped while the last is running): settle to make it deterministic.
    await service.snapshots.settle();
  }
};

describe('snapshot retention', () => {
  it.each<[SnapshotKeep, number[], number[]]>([
    ['all', [3, 1, 2], [1, 2, 3]],
    [{ every: 10 }, [2, 4, 10, 12, 20, 36], [2, 10, 20, 36]],
    // Batches end where they end: the lowest of each span of ten, and the latest.
    [{ every: 10 }, [7, 13, 19, 24, 31, 38, 42], [7, 13, 24, 31, 42]],
    [{ every: 10 }, [103], [103]],
    [{ every: 1000 }, [999, 1002, 1500], [999, 1002, 1500]],
    [{ every: 1000 }, [1002, 1500, 1999, 2003], [1002, 2003]],
  ])('with keep %o, of snapshots at %o keeps %o', (keep, versions, kept) => {
    expect(keptSnapshots(keep, versions)).toEqual(kept);
  });

  it('keeps the latest snapshot and the lowest of every K versions as it writes', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 2, snapshotKeep: { every: 10 } });
    const conferenceId = newConferenceId();
    await playReservations(service, conferenceId, 35); // versions 1..36
    expect(await keptVersions(streamIdOf(conferenceId))).toEqual([2, 10, 20, 30, 36]);
  });

  it('keeps every snapshot with keep all', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 5, snapshotKeep: 'all' });
    const conferenceId = newConferenceId();
    await playReservations(service, conferenceId, 21); // versions 1..22
    expect(await keptVersions(streamIdOf(conferenceId))).toEqual([5, 10, 15, 20]);
  });

  it('answers every point in time exactly as a full replay does, before and after pruning', async () => {
    const service = createTestService(db.sql, { snapshotInterval: 3, snapshotKeep: 'all' });
    const conferenceId = newConferenceId();
    const streamId = streamIdOf(conferenceId);
    await playReservations(service, conferenceId, 40);
    const recorded = await service.eventStore.readStream(streamId);
    const events = recorded.map(toSeatAvailabilityEvent);
    const answers = async () =>
      Promise.all(
        recorded.map(async (event) => (await loadSeatAvailabilityAsOf(service, conferenceId, event.recordedAt)).state),
      );
    // A point in time names every event recorded within its millisecond (the store's times have microseconds).
    const expected = recorded.map(({ recordedAt }) =>
      evolveAll(events.filter((_, j) => recorded[j]!.recordedAt.getTime() <= recordedAt.getTime())),
    );
    expect(await answers()).toEqual(expected);

    const before = (await keptVersions(streamId)).length;
    const deleted = await pruneSnapshots(db.sql, streamId, { every: 9 });
    expect(await keptVersions(streamId)).toEqual([3, 9, 18, 27, 36, 39]);
    expect(deleted).toBe(before - 6);
    expect(await answers()).toEqual(expected);
    expect((await loadSeatAvailability(service, conferenceId)).state).toEqual(expected.at(-1));
  });

  it('never deletes the snapshot a load would use while writes race, even ones arriving out of order', async () => {
    const conferenceId = newConferenceId();
    const service = createTestService(db.sql, { snapshotInterval: 0 });
    await playReservations(service, conferenceId, 200);
    const streamId = streamIdOf(conferenceId);
    const recorded = await service.eventStore.readStream(streamId);
    const events = recorded.map(toSeatAvailabilityEvent);
    const states: ReturnType<typeof evolveAll>[] = [];
    events.reduce((state, event) => {
      const next = evolveAll([event], state);
      states.push(next);
      return next;
    }, initialState());
    const keep = { every: 25 };
    // Versions in a shuffled order, written by eight writers at once: a late write of an old version races the prunes.
    const versions = Array.from({ length: recorded.length }, (_, i) => i + 1).sort(
      (a, b) => ((a * 7919) % 211) - ((b * 7919) % 211),
    );
    const reader = createSnapshots(db.sql, { interval: 1, log: quietLog });
    let writing = true;
    let committed = 0;
    const seen: number[] = [];
    const loads = (async () => {
      while (writing) {
        // Every write committed before this load began stays visible as a latest at or above it.
        const floor = committed;
        const loaded = await reader.load(streamId);
        if (loaded) {
          expect(loaded.version).toBeGreaterThanOrEqual(floor);
          expect(loaded.state).toEqual(states[loaded.version - 1]);
          seen.push(loaded.version);
        }
      }
    })();
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < versions.length; i += 8) {
        const version = versions[i]!;
        const state = states[version - 1]!;
        if (state.status !== 'open') continue;
        await writeSnapshot(db.sql, streamId, { state: toSnapshot(state), version, position: 0 }, keep);
        committed = Math.max(committed, version);
      }
    });
    // The loads stop however the writers end, so a failed write leaves no query running past the test.
    await Promise.all(writers).finally(() => (writing = false));
    await loads;
    expect(seen.length).toBeGreaterThan(0);
    const latest = recorded.length;
    const kept = await keptVersions(streamId);
    expect(kept.at(-1)).toBe(latest);
    // Late writes of old versions may linger until the next prune; one removes them.
    await pruneSnapshots(db.sql, streamId, keep);
    // The lowest written of each span is never deleted (none lower shares it): the rule over all written.
    const written = versions.filter((version) => states[version - 1]!.status === 'open');
    expect(await keptVersions(streamId)).toEqual(keptSnapshots(keep, written));
  });

  it('keeps loads exact while two processes write and prune the same stream under load', async () => {
    const conferenceId = newConferenceId();
    const settings = { snapshotInterval: 1, snapshotKeep: { every: 10 } } as const;
    const [one, two] = [createTestService(db.sql, settings), createTestService(db.sql, settings)];
    await one.handlers.createConference({
      conferenceId,
      name: 'Two writers',
      seatTypes: [{ type: 'standard', capacity: 10_000 }],
    });
    const streamId = streamIdOf(conferenceId);
    let writing = true;
    const checks = (async () => {
      let floor = 0;
      let loadsChecked = 0;
      while (writing || loadsChecked < 5) {
        const loaded = await loadSeatAvailability(one, conferenceId);
        const upTo = (await one.eventStore.readStream(streamId)).filter((e) => e.streamVersion <= loaded.version);
        expect(loaded.state).toEqual(evolveAll(upTo.map(toSeatAvailabilityEvent)));
        const snapshot = await one.snapshots.load(streamId);
        expect(snapshot?.version ?? 0).toBeGreaterThanOrEqual(floor);
        floor = snapshot?.version ?? 0;
        loadsChecked++;
      }
    })();
    // The direct path: each command loads from the latest snapshot, so a pruned-away latest would show.
    await Promise.all(
      Array.from({ length: 6 }, async (_, c) => {
        const handlers = c % 2 === 0 ? one.directHandlers : two.directHandlers;
        for (let i = 0; i < 25; i++) {
          await handlers.reserveSeats({
            conferenceId,
            reservationId: `c${c}-${i}`,
            seats: [{ seatType: 'standard', quantity: 1 }],
          });
        }
      }),
    );
    await Promise.all([one.snapshots.settle(), two.snapshots.settle()]);
    writing = false;
    await checks;
    const latest = await one.eventStore.streamVersion(streamId);
    const kept = await keptVersions(streamId);
    expect(kept.at(-1)).toBeGreaterThan(latest - 10);
    // One snapshot per span of ten versions, but for the latest's span and a late write of an old
    // version that no later write came to prune.
    const spans = new Set(kept.map((v) => Math.floor(v / 10)));
    expect(kept.length - spans.size).toBeLessThanOrEqual(2);
    expect(spans.size).toBeGreaterThanOrEqual(Math.floor(latest / 10) - 1);
    expect((await loadSeatAvailability(two, conferenceId)).version).toBe(latest);
  });
});
