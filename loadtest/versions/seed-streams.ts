import type { Sql } from '../../src/database/connect.js';
import { evolveAll, type SeatAvailabilityEvent } from '../../src/seat-availability/index.js';
import { appendEvents, history, settle } from '../snapshots/read-costs.js';
import { insertAsOlderRelease, upcastFromVersion1 } from './older-release.js';

/** The two streams compared: the same history, by the conference ids they are written under. */
export type VersionStreams = { allCurrent: string; mixed: string };

/** What the two streams hold; the same for both but where each event's version is said. */
export type StreamsWritten = {
  length: number;
  /** Events of the mixed stream written as the release before event versions wrote them: its first half. */
  writtenInVersion1: number;
  /** Of those, the events whose type has a newer version: an upcaster runs on each at every read. */
  upcastOnRead: number;
  /** Events of each type in either stream. */
  eventTypes: Record<string, number>;
};

/**
 * The conference ids of a run's two streams. Of one length, since every event's data names its
 * conference: the two streams' rows are then the same size but for the versions' own difference.
 */
export const versionStreamIds = (runId: string): VersionStreams => ({
  allCurrent: `vcur-${runId}`,
  mixed: `vmix-${runId}`,
});

/** The events the older release writes in the mixed stream: the first half, rounded down. */
const version1Count = (length: number): number => Math.floor(length / 2);

/** How many events of each type, and of those written in version 1, how many are upcast on read. */
export const describeStreams = (events: SeatAvailabilityEvent[]): StreamsWritten => {
  const eventTypes: Record<string, number> = {};
  for (const event of events) eventTypes[event.type] = (eventTypes[event.type] ?? 0) + 1;
  const writtenInVersion1 = version1Count(events.length);
  return {
    length: events.length,
    writtenInVersion1,
    upcastOnRead: events.slice(0, writtenInVersion1).filter(upcastFromVersion1).length,
    eventTypes,
  };
};

/**
 * Writes the same seat-moving history (the snapshot benchmark's: 85% reservations, 15% cancels)
 * twice: once all in the current versions, through the store's append as this release writes;
 * once with its first half written by raw SQL as the release before event versions wrote it, and
 * the rest appended by this release after it, as a stream that lived through the upgrade. Then
 * vacuums and analyzes, as autovacuum leaves a live database (see `settle`). Returns the state
 * the history leads to, which every load must give.
 */
export const seedVersionStreams = async (
  sql: Sql,
  streams: VersionStreams,
  { length, seed }: { length: number; seed: number },
) => {
  const allCurrent = history(streams.allCurrent, length, seed);
  await appendEvents(sql, streams.allCurrent, allCurrent);
  const mixed = history(streams.mixed, length, seed);
  const half = version1Count(length);
  await insertAsOlderRelease(sql, streams.mixed, mixed.slice(0, half));
  await appendEvents(sql, streams.mixed, mixed.slice(half), { fromVersion: half });
  await settle(sql);
  return { written: describeStreams(allCurrent), expected: evolveAll(allCurrent) };
};
