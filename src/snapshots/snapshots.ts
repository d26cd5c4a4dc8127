import type { Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';
import type { SeatAvailability } from '../seat-availability/index.js';
import {
  fromSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  toSnapshot,
  type SeatAvailabilitySnapshotV1,
} from './seat-availability-snapshot.js';
import { snapshotDue } from './snapshot-policy.js';

/** A state as of stream `version`, whose last event has global `position`. */
export type VersionedState = { state: SeatAvailability; version: number; position: number };

/** A snapshot ready to store: the state in its stored shape, and the version and position it reflects. */
export type StoredSnapshot = { state: SeatAvailabilitySnapshotV1; version: number; position: number };

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
     * Called after every append. When the append crossed the interval, the snapshot is written on
     * a later turn of the event loop, so the command is answered first; a failed write is logged
     * and forgotten (the next interval tries again, and loading falls back to replaying events).
     */
    afterAppend(
      streamId: string,
      versionBefore: number,
      appended: VersionedState,
      { captureNow = false }: { captureNow?: boolean } = {},
    ): void {
      const { state, version, position } = appended;
      if (state.status !== 'open' || !snapshotDue(interval, versionBefore, version, state.reservations.size)) return;
      // A hot stream crosses the interval faster than a large state can be written: while one
      // snapshot of a stream is being written, the next due one is skipped rather than queued.
      if (writing.has(streamId)) {
        onWrite('skipped');
        return;
      }
      writing.add(streamId);
      // A state that will change after this call (a cached one) is captured now; a state nobody
      // else holds is captured on a later turn, after the command has been answered.
      const captured = captureNow ? toSnapshot(state) : undefined;
      const task = new Promise<void>((done) => setImmediate(done))
        .then(() => write(sql, streamId, { state: captured ?? toSnapshot(state), version, position }))
        .then(
          () => onWrite('written'),
          (error: unknown) => {
            onWrite('failed');
            log.warn({ err: error, streamId, version: appended.version }, 'snapshot write failed; carrying on');
          },
        )
        .finally(() => {
          writing.delete(streamId);
          pending.delete(task);
        });
      pending.add(task);
    },

    /** Resolves once every snapshot write started so far has finished (for shutdown and tests). */
    async settle(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
};

/** Keeps only the newest snapshot per stream; an older one never overwrites a newer one. */
export const writeSnapshot = async (sql: Sql, streamId: string, { state, version, position }: StoredSnapshot) => {
  await sql`
    insert into snapshots (stream_id, version, position, schema_version, state)
    values (${streamId}, ${version}, ${position}, ${SNAPSHOT_SCHEMA_VERSION}, ${sql.json(state)})
    on conflict (stream_id) do update
      set version = excluded.version, position = excluded.position, schema_version = excluded.schema_version,
          state = excluded.state, taken_at = now()
      where snapshots.version < excluded.version or snapshots.schema_version <> excluded.schema_version`;
};
