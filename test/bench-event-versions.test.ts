import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseVersionsOptions, runVersionsBench, type VersionsReport } from '../loadtest/bench-event-versions.js';
import { UsageRequested } from '../loadtest/options.js';
import { history } from '../loadtest/snapshots/read-costs.js';
import { countsOf, measureColdLoads } from '../loadtest/versions/measure-loads.js';
import { version1Data } from '../loadtest/versions/older-release.js';
import { describeStreams, versionStreamIds } from '../loadtest/versions/seed-streams.js';
import { buildVersionsReport } from '../loadtest/versions/versions-report.js';
import { connect } from '../src/database/connect.js';
import { dropDatabase } from '../src/database/databases.js';
import { evolveAll, upcast, type SeatAvailabilityEvent } from '../src/seat-availability/index.js';
import { testEventsPartitions } from './support/database.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'seat-surge-versions-'));
});
afterAll(() => rm(out, { recursive: true, force: true }));

const confirmed: SeatAvailabilityEvent = {
  type: 'HoldConfirmed',
  data: {
    conferenceId: 'c',
    reservationId: 'h',
    seats: [{ seatType: 'standard', quantity: 1 }],
    confirmedAt: '2026-11-21T10:00:00.000Z',
    attendee: null,
  },
};

describe('event-versions benchmark', () => {
  it('writes version 1 as the older release did, and reading it back upcasts to the same events', () => {
    const events = [...history('c', 500), confirmed];
    for (const event of events) {
      const data = version1Data(event);
      const changed = event.type === 'SeatsReserved' || event.type === 'HoldConfirmed';
      expect(Object.hasOwn(data as object, 'attendee')).toBe(false);
      expect(data === event.data).toBe(!changed);
      expect(upcast(event.type, 1, data)).toEqual(event.data);
    }
  });

  it('writes the first half of the mixed stream in version 1, most of it upcast on read', () => {
    const written = describeStreams(history('c', 2000));
    expect(written.length).toBe(2000);
    expect(written.writtenInVersion1).toBe(1000);
    // Reservations are about 85% of the history: that many of the first half run an upcaster.
    expect(written.upcastOnRead).toBeGreaterThan(750);
    expect(written.upcastOnRead).toBeLessThan(950);
    expect((written.eventTypes.SeatsReserved ?? 0) + (written.eventTypes.ReservationCancelled ?? 0)).toBe(1999);
    expect(describeStreams(history('c', 5)).writtenInVersion1).toBe(2);
  });

  it('names both streams alike in length, so their rows differ only by version', () => {
    const { allCurrent, mixed } = versionStreamIds('abc');
    expect(allCurrent).not.toBe(mixed);
    expect(allCurrent.length).toBe(mixed.length);
  });

  it('asks for help, checks its options, and defaults to 100,000 events and 15 rounds', () => {
    expect(() => parseVersionsOptions(['--help'])).toThrow(UsageRequested);
    expect(() => parseVersionsOptions(['--length', '3'])).toThrow(/--length must be a whole number of at least 4/);
    expect(() => parseVersionsOptions(['--rounds', '0'])).toThrow(/--rounds must be/);
    expect(() => parseVersionsOptions(['--rounds', '1.5'])).toThrow(/--rounds must be/);
    expect(parseVersionsOptions([], new Date('2026-12-03T10:00:00Z'))).toEqual({
      length: 100_000,
      rounds: 15,
      seed: 1,
      outDir: 'loadtest/results/2026-12-03T10-00-00-000Z-versions',
    });
    expect(parseVersionsOptions(['--length', '2k', '--rounds', '3']).length).toBe(2000);
  });

  it('holds the ratio of medians against the target, and says whether it is met', () => {
    const report = (mixed: number[]) =>
      buildVersionsReport({
        startedAt: new Date(),
        machine: { cpus: 2, cpuModel: 'test', memoryGiB: 1, node: 'v20', platform: 'linux-x64' },
        options: { length: 10, rounds: 3, seed: 1, outDir: out },
        streams: describeStreams(history('c', 10)),
        state: { version: 10, seatTypes: [] },
        loads: { allCurrent: [100, 90, 110], mixed },
        upcasts: { allCurrent: [1, 1, 1], mixed: [5, 4, 6] },
      });
    const within = report([105, 99, 120]);
    expect(within.coldLoadMs.mixed).toEqual({ min: 99, median: 105, p90: 120 });
    expect(within.ratio).toBe(1.05);
    expect(within.target).toEqual({ ratio: 1.1, met: true });
    expect(within.roundRatios).toEqual({ min: 1.05, median: 1.091, p90: 1.1 });
    expect(within.upcastShare).toEqual({ allCurrent: 0.01, mixed: 0.048 });
    expect(within.upcastExtra).toEqual({ ms: 4, ofAllCurrentLoad: 0.04 });
    expect(within.verdict).toMatch(/: 1\.050 \(105 ms against 100 ms over 3 rounds\): within the target of 1\.10$/);
    const over = report([130, 111, 140]);
    expect(over.target.met).toBe(false);
    expect(over.verdict).toMatch(/OVER the target/);
  });

  it('measures both streams small, agrees on their state, and writes the reports', async () => {
    const serverUrl = inject('serverUrl');
    const options = { length: 2000, rounds: 3, seed: 1, outDir: join(out, 'run') };
    const { report, files, database } = await runVersionsBench(serverUrl, options, {
      eventsPartitions: testEventsPartitions,
    });
    const sql = connect(database, 2);
    try {
      expect(report.kind).toBe('event-versions-benchmark');
      const expected = evolveAll(history('any', 2000));
      expect(report.state).toEqual(countsOf(expected, 2000));
      expect(report.streams).toMatchObject({ length: 2000, writtenInVersion1: 1000 });
      for (const stream of ['allCurrent', 'mixed'] as const) {
        expect(report.samples.coldLoadMs[stream]).toHaveLength(3);
        expect(report.samples.upcastMs[stream]).toHaveLength(3);
        expect(report.coldLoadMs[stream].median).toBeGreaterThan(0);
        expect(report.upcastShare[stream]).toBeGreaterThan(0);
      }
      expect(report.ratio).toBeGreaterThan(0);
      expect(report.verdict).toMatch(/(within|OVER) the target of 1\.10$/);

      // What is stored: the mixed stream's first half in version 1 without an attendee, all else current.
      const stored = await sql<{ stream: string; schemaVersion: number; attendee: boolean; events: number }[]>`
        select stream_id as stream, schema_version as "schemaVersion", data ? 'attendee' as attendee,
          count(*)::int as events
        from events where type = 'SeatsReserved'
        group by 1, 2, 3 order by 1, 2`;
      const ids = versionStreamIds(new URL(database).pathname.slice('/versions_'.length));
      expect(stored.map((s) => [s.stream, s.schemaVersion, s.attendee])).toEqual([
        [`seat-availability-${ids.allCurrent}`, 2, true],
        [`seat-availability-${ids.mixed}`, 1, false],
        [`seat-availability-${ids.mixed}`, 2, true],
      ]);
      expect(stored[1]!.events).toBe(report.streams.upcastOnRead);
      const [{ first } = { first: 0 }] = await sql<{ first: number }[]>`
        select min(stream_version) as first from events
        where stream_id = ${`seat-availability-${ids.mixed}`} and schema_version = 2`;
      expect(first).toBeGreaterThan(1000);

      // A load that gives another state stops the run.
      const wrong = { ...report.state, version: 1999 };
      await expect(measureColdLoads(sql, ids, wrong, 1)).rejects.toThrow(
        /the allCurrent stream loaded .* but its history gives/,
      );

      const written = JSON.parse(await readFile(files[0]!, 'utf8')) as VersionsReport;
      expect(written.ratio).toBe(report.ratio);
      const markdown = await readFile(files[1]!, 'utf8');
      expect(markdown).toContain(report.verdict);
      expect(markdown).toContain('| half version 1 | 2000 | 1000 |');
      expect(markdown).toMatch(/The upcasting alone: the \d+ upcasts of the version-1 events add /);
    } finally {
      await sql.end({ timeout: 5 });
      await dropDatabase(serverUrl, new URL(database).pathname.slice(1));
    }
  });
});
