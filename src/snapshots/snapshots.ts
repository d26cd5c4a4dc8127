import type { Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';
import type { SeatAvailability } from '../seat-availability/index.js';
import {
  fromSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  toSnapshot,
  type SeatAvailabilitySnapshotV3,
} from './seat-availability-snapshot.js';
import { snapshotDue } from './snapshot-policy.js';

/** A state as of stream `version`, whose last event has global `position`. */
export type VersionedState = { state: SeatAvailability; version: number; position: number };

/** A snapshot ready to store: the state in its stored shape, and the version and position it reflects. */
export type StoredSnapshot = { state: SeatAvailabilitySnapshotV3; version: number; position: number };

export type Snapshots = ReturnType<typeof createSnapshots>;

export type SnapshotOptions = {
  interval: number;
  log: Logger;
  /** Told of every snapshot written, failed, or skipped because the stream's previous one was still being written. */
  onWrite?: (outcome: 'written' | 'failed' | 'skipped') => void;
  /** Where snapshots are written; replaced in tests to make writes fail. */
  write?: (sql: Sql, streamId: string, snapshot: StoredSnapshot) => Promise<void>;
};

type SnapshotRow = { version: number; position: number; state: SeatAvailabilitySnapshotV3 };

/**
 * Snapshots of SeatAvailability streams: loading the latest usable one (or the latest at or
 * before a time), and taking one when an append crosses the interval, off the command's path.
 */
export const createSnapshots = (sql: Sql, options: SnapshotOptions) => {
  const { interval, log, onWrite = () => {}, write = writeSnapshot } = options;
  const pending = new Set<Promise<void>>();
  const writing = new Set<string>();
  const usable = (row: SnapshotRow | undefined): VersionedState | undefined =>
    row && { state: fromSnapshot(row.state), version: row.version, position: row.position };

  return {
    interval,

    /** The latest snapshot in the current schema version, if any; others are ignored. */
    async load(streamId: string): Promise<VersionedState | undefined> {
      const [row] = await sql<SnapshotRow[]>`
        select version, position, state from snapshots
        where stream_id = ${streamId} and schema_version = ${SNAPSHOT_SCHEMA_VERSION}
        order by version desc limit 1`;
      return usable(row);
    },

    /** The latest snapshot at or before stream version `version`, in the current schema version. */
    async loadAt(streamId: string, version: number): Promise<VersionedState | undefined> {
      const [row] = await sql<SnapshotRow[]>`
        select version, position, state from snapshots
        where stream_id = ${streamId} and version <= ${version} and schema_version = ${SNAPSHOT_SCHEMA_VERSION}
        order by version desc limit 1`;
      return usable(row);
    },

    /**
     * Called after every append. When the append crossed the snapshot interval, the snapshot is
     * written after the command is answered; a failed write is logged and forgotten (the next
     * interval tries again, and loading replays a little more meanwhile).
     */
    afterAppend(streamId: string, versionBefore: number, appended: VersionedState): void {
      const { state, version, position } = appended;
      if (state.status !== 'open' || !snapshotDue(interval, versionBefore, version)) return;
      // While one snapshot of a stream is being written, the next due one is skipped rather than queued.
      if (writing.has(streamId)) {
        onWrite('skipped');
        return;
      }
      writing.add(streamId);
      const task = new Promise<void>((done) => setImmediate(done))
        .then(() => write(sql, streamId, { state: toSnapshot(state), version, position }))
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
    },

    /** Resolves once every snapshot write started so far has finished (for shutdown and tests). */
    async settle(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
};

/** Adds a snapshot; every earlier one is kept for point-in-time reads. */
export const writeSnapshot = async (sql: Sql, streamId: string, { state, version, position }: StoredSnapshot) => {
  await sql`
    insert into snapshots (stream_id, version, position, schema_version, state)
    values (${streamId}, ${version}, ${position}, ${SNAPSHOT_SCHEMA_VERSION}, ${sql.json(state)})
    on conflict (stream_id, version) do update
      set position = excluded.position, schema_version = excluded.schema_version, state = excluded.state,
          taken_at = now()
      where snapshots.schema_version <> excluded.schema_version`;
};
