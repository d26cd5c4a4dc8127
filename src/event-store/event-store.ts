import type { Queryable } from '../database/connect.js';
import { append, appendStreams, type NewEvent, type StreamAppend } from './append-streams.js';
import { readAll, settledBatch, type BatchStart, type Checkpoint } from './read-all.js';
import { readByKeys } from './read-keys.js';
import type { ProjectorWakeUps } from './projector-wake-ups.js';
import { readStream, readStreamPage, streamVersion, versionAt } from './read-stream.js';

export type { AppendResult, NewEvent, StreamAppend, StreamAppendOutcome } from './append-streams.js';
export { compareCheckpoints, inRange, START, type BatchStart, type Checkpoint } from './read-all.js';
export type { RecordedEvent } from './recorded-event.js';

export type EventStore = ReturnType<typeof createEventStore>;

/**
 * The PostgreSQL event store. It knows streams, versions, positions and keys, nothing of what
 * the events mean. Every statement is written out in a file of its kind, so its locking is
 * visible (append-streams.ts, read-keys.ts, read-stream.ts, read-all.ts); this binds them to a
 * pool or a transaction. With `wakeUps`, committed appends wake the projectors (see
 * projector-wake-ups.ts); without, projectors find the events at their poll.
 */
export const createEventStore = (sql: Queryable, { wakeUps }: { wakeUps?: ProjectorWakeUps } = {}) => ({
  /**
   * Appends all the events or none: `appendStreams` with one stream. Throws
   * `VersionConflictError` when the stream is not at `expectedVersion` (0 = the stream must not
   * exist yet), `KeysExistError` when one of `newKeys` has events in it already.
   */
  append: async (streamId: string, expectedVersion: number, events: NewEvent[], newKeys: string[] = []) => {
    const appended = await append(sql, { streamId, expectedVersion, events, newKeys });
    wakeUps?.appended();
    return appended;
  },
  appendStreams: async (appends: StreamAppend[]) => {
    const outcomes = await appendStreams(sql, appends);
    if (outcomes.some((outcome) => !(outcome instanceof Error))) wakeUps?.appended();
    return outcomes;
  },
  readStream: (streamId: string, options?: Parameters<typeof readStream>[2]) => readStream(sql, streamId, options),
  readStreamPage: (streamId: string, afterPosition: number, limit: number) =>
    readStreamPage(sql, streamId, afterPosition, limit),
  readAll: (afterPosition: number, limit: number) => readAll(sql, afterPosition, limit),
  settledBatch: (from: BatchStart, limit: number, upTo?: Checkpoint) => settledBatch(sql, from, limit, upTo),
  readByKeys: (streamId: string, keys: string[], upToVersion?: number) => readByKeys(sql, streamId, keys, upToVersion),
  versionAt: (streamId: string, asOf: Date) => versionAt(sql, streamId, asOf),
  streamVersion: (streamId: string) => streamVersion(sql, streamId),
});
