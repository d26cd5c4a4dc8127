import type { Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';
import type { SeatAvailability } from '../seat-availability/index.js';
import {
  fromSnapshot,
  serializeSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  type SeatAvailabilitySnapshotV1,
} from './seat-availability-snapshot.js';
import { snapshotDue } from './snapshot-policy.js';

/** A state as of stream `version`, whose last event has global `position`. */
export type VersionedState = { state: SeatAvailability; version: number; position: number };

/** A snapshot ready to store: the state as JSON text in its stored shape, and the version and position it reflects. */
export type StoredSnapshot = { json: string; version: number; position: number };

export type Snapshots = ReturnType<typeof createSnapshots>;

export type SnapshotOptions = {
  interval: number;
  log: Logger;
  /** Told of every snapshot written, failed, or skipped because the stream's previous one was still being written. */
  onWrite?: (outcome: 'written' | 'failed' | 'skipped') => void;
  /** Where snapshots are written; replaced in tests to make writes fail. */
  write?: (sql: Sql, streamId: string, snapshot: StoredSnapshot) => Promise<void>;
};

/**
 * Snapshots of SeatAvailability streams: loading the latest usable one, and taking one when an
 * append crosses the interval, off the command's path.
 */
export const createSnapshots = (sql: Sql, options: SnapshotOptions) => {
  const { interval, log, onWrite = () => {}, write = writeSnapshot } = options;
  const pending = new Set<Promise<void>>();
  const writing = new Set<string>();

  return {
    interval,

    /** The latest snapshot in the current schema version, if any; others are ignored. */
    async load(streamId: string): Promise<VersionedState | undefined> {
      const [row] = await sql<{ version: number; position: number; state: SeatAvailabilitySnapshotV1 }[]>`
        select version, position, state from snapshots
        where stream_id = ${streamId} and schema_version = ${SNAPSHOT_SCHEMA_VERSION}`;
      return row && { state: fromSnapshot(row.state), version: row.version, position: row.position };
    },

    /**
     * Called after every append. When the append crossed the snapshot step, the snapshot is
     * serialised over later turns of the event loop and written, so the command is answered
     * first; a failed write is logged and forgotten (the next step tries again, and loading falls
     * back to replaying events). Returns the write when one was started: until it settles the
     * caller must not change `appended.state` (the batched writer sets its cache aside meanwhile).
     */
    afterAppend(streamId: string, versionBefore: number, appended: VersionedState): Promise<void> | undefined {
      const { state, version, position } = appended;
      if (state.status !== 'open' || !snapshotDue(interval, versionBefore, version, state.reservations.size)) return;
      // A hot stream crosses the step faster than a large state can be written: while one
      // snapshot of a stream is being written, the next due one is skipped rather than queued.
      if (writing.has(streamId)) {
        onWrite('skipped');
        return;
      }
      writing.add(streamId);
      const task = new Promise<void>((done) => setImmediate(done))
        .then(() => serializeSnapshot(state))
        .then((json) => write(sql, streamId, { json, version, position }))
        .then(
          () => onWrite('written'),
          (error: unknown) => {
            onWrite('failed');
            log.warn({ err: error, streamId, version }, 'snapshot write failed; carrying on');
          },
        )
        .finally(() => {
          writing.delete(streamId);
          pending.delete(task);
        });
      pending.add(task);
      return task;
    },

    /** Resolves once every snapshot write started so far has finished (for shutdown and tests). */
    async settle(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
};

/**
 * Keeps only the newest snapshot per stream; an older one never overwrites a newer one. The text
 * is cast from `text`: a parameter the server sees as jsonb would be JSON-encoded again by the driver.
 */
export const writeSnapshot = async (sql: Sql, streamId: string, { json, version, position }: StoredSnapshot) => {
  await sql`
    insert into snapshots (stream_id, version, position, schema_version, state)
    values (${streamId}, ${version}, ${position}, ${SNAPSHOT_SCHEMA_VERSION}, ${json}::text::jsonb)
    on conflict (stream_id) do update
      set version = excluded.version, position = excluded.position, schema_version = excluded.schema_version,
          state = excluded.state, taken_at = now()
      where snapshots.version < excluded.version or snapshots.schema_version <> excluded.schema_version`;
};
