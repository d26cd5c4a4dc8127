import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  history,
  parseBenchOptions,
  runBench,
  snapshotVersionFor,
  type BenchReport,
} from '../loadtest/bench-snapshots.js';
import { UsageRequested } from '../loadtest/options.js';
import { dropDatabase } from '../src/database/databases.js';
import { evolveAll } from '../src/seat-availability/index.js';
import { testEventsPartitions } from './support/database.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'seat-surge-bench-'));
});
afterAll(() => rm(out, { recursive: true, force: true }));

describe('snapshot benchmark', () => {
  it('generates a realistic history: mostly reservations, some cancels, and a state of counts only', () => {
    const events = history('c', 2000);
    expect(events).toHaveLength(2000);
    const cancels = events.filter((e) => e.type === 'ReservationCancelled').length;
    expect(cancels / events.length).toBeGreaterThan(0.08);
    expect(cancels / events.length).toBeLessThan(0.2);
    const state = evolveAll(events);
    if (state.status !== 'open') throw new Error('the conference is missing');
    expect(Object.keys(state).sort()).toEqual(['conferenceId', 'name', 'seatTypes', 'status']);
    const seatsHeld = (type: 'SeatsReserved' | 'ReservationCancelled') =>
      events.flatMap((e) => (e.type === type ? e.data.seats : [])).reduce((n, s) => n + s.quantity, 0);
    const reserved = [...state.seatTypes.values()].reduce((n, c) => n + c.reserved, 0);
    expect(reserved).toBe(seatsHeld('SeatsReserved') - seatsHeld('ReservationCancelled'));
  });

  it('ends a history with pending holds when asked, and the state still holds counts only', () => {
    const events = history('c', 500, 1, 200);
    expect(events).toHaveLength(500);
    expect(events.slice(300).every((e) => e.type === 'SeatsHeld')).toBe(true);
    const state = evolveAll(events);
    if (state.status !== 'open') throw new Error('the conference is missing');
    expect(state.seatTypes.get('standard')?.held).toBe(200);
    expect(Object.keys(state).sort()).toEqual(['conferenceId', 'name', 'seatTypes', 'status']);
  });

  it('places the snapshot about half an interval before the end of the stream', () => {
    expect(snapshotVersionFor(1000, 0)).toBe(0);
    expect(snapshotVersionFor(1000, 10)).toBe(990);
    expect(snapshotVersionFor(1000, 100)).toBe(900);
    expect(snapshotVersionFor(1000, 1000)).toBe(0);
    expect(snapshotVersionFor(10_000, 1000)).toBe(9000);
    expect(snapshotVersionFor(100_000, 100)).toBe(99_900);
  });

  it('asks for help, checks its options, and defaults to two passes of the write-cost phase', () => {
    expect(() => parseBenchOptions(['--help'])).toThrow(UsageRequested);
    expect(() => parseBenchOptions(['--max-cold-ms', 'abc'])).toThrow(/--max-cold-ms must be a positive number/);
    expect(() => parseBenchOptions(['--repeats', '1.5'])).toThrow(/--repeats must be a whole number/);
    expect(parseBenchOptions([])).toMatchObject({
      intervals: [0, 10, 100, 1000, 10_000],
      repeats: 2,
      surgeSeconds: 3,
      connections: 64,
      maxColdMs: 5,
      keeps: [100, 1000, 10_000],
    });
  });

  it('measures every length and interval, retention and the surges, recommends, and writes the reports', async () => {
    const serverUrl = inject('serverUrl');
    const options = {
      ...parseBenchOptions(['--quick']),
      intervals: [0, 10, 50],
      lengths: [120, 400],
      samples: 2,
      commands: 2,
      holds: 100,
      repeats: 1,
      surgeSeconds: 0.5,
      connections: 4,
      keeps: [50],
      outDir: join(out, 'bench'),
    };
    const { report, files, database } = await runBench(serverUrl, options, { eventsPartitions: testEventsPartitions });
    try {
      expect(report.rows.map((r) => [r.streamLength, r.snapshotInterval])).toEqual([
        [120, 0],
        [120, 10],
        [120, 50],
        [400, 0],
        [400, 10],
        [400, 50],
      ]);
      for (const row of report.rows) {
        expect(row.tailEvents).toBe(row.streamLength - row.snapshotVersion);
        expect(row.activeHolds).toBe(100);
        expect(row.coldLoadMs.median).toBeGreaterThan(0);
        expect(row.reserveCommandMs.median).toBeGreaterThan(0);
        if (row.snapshotInterval === 0) {
          expect(row.snapshotJsonBytes).toBe(0);
          expect(row.snapshotWriteMs).toBeNull();
        } else {
          expect(row.snapshotJsonBytes).toBeGreaterThan(0);
          expect(row.snapshotWriteMs).not.toBeNull();
        }
      }
      for (const row of report.rows.filter((r) => r.snapshotInterval > 0)) {
        // A load replays at most an interval and a half (placed as on average), every interval's snapshot is kept, and a
        // snapshot is a few counts: its size follows neither the stream's length nor the holds pending.
        expect(row.tailEvents).toBeLessThanOrEqual(row.snapshotInterval * 1.5);
        expect(row.snapshotsKept).toBe(row.snapshotVersion / row.snapshotInterval);
        expect(row.snapshotJsonBytes).toBeLessThan(200);
      }

      // Retention on the longest stream at the smallest interval: fewer rows, the same answers (checked as it ran).
      expect(report.retention.map((r) => [r.keep, r.rowsKept])).toEqual([
        ['all', 40],
        [50, 9],
      ]);
      // One surge per interval, through the harness: committed, audited, CPU measured on Linux.
      expect(report.surges.map((s) => [s.interval, s.pass])).toEqual([
        [0, 1],
        [10, 1],
        [50, 1],
      ]);
      for (const surge of report.surges) {
        expect(surge.committedPerSecond).toBeGreaterThan(0);
        expect(surge.phase.audit?.passed).toBe(true);
        expect(surge.serverCpuUsPerCommitted).toBeGreaterThan(0);
      }
      expect(report.surges.find((s) => s.interval === 0)?.snapshotsWrittenPerSecond).toBe(0);
      expect(report.recommendation.line).toMatch(/^(interval \d+|no interval)/);

      const written = JSON.parse(await readFile(files[0]!, 'utf8')) as BenchReport;
      expect(written.kind).toBe('snapshot-benchmark');
      const html = await readFile(files[2]!, 'utf8');
      expect(html).toContain('<svg');
      expect(html).toContain('Both sides against the interval');
      const markdown = await readFile(files[1]!, 'utf8');
      expect(markdown.trim().split('\n').at(-1)).toMatch(/^\*\*Recommendation: /);
    } finally {
      const name = new URL(database).pathname.slice(1);
      for (const interval of options.intervals) await dropDatabase(serverUrl, `${name}_writes_${interval}`);
      await dropDatabase(serverUrl, name);
    }
  });
});
