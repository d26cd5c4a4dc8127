import type postgres from 'postgres';
import type { Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';
import type { SeatAvailability } from '../seat-availability/index.js';
import {
  fromSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  toSnapshot,
  type SeatAvailabilitySnapshotV3,
} from './seat-availability-snapshot.js';
import { snapshotDue, type SnapshotKeep } from './snapshot-policy.js';

/** A state as of stream `version`, whose last event has global `position`. */
export type VersionedState = { state: SeatAvailability; version: number; position: number };

/** A snapshot ready to store: the state in its stored shape, and the version and position it reflects. */
export type StoredSnapshot = { state: SeatAvailabilitySnapshotV3; version: number; position: number };

export type Snapshots = ReturnType<typeof createSnapshots>;

export type SnapshotOptions = {
  interval: number;
  /** Which earlier snapshots a write leaves in place (default: all of them). */
  keep?: SnapshotKeep;
  log: Logger;
  /** Told of every snapshot written, failed, or skipped because the stream's previous one was still being written. */
  onWrite?: (outcome: 'written' | 'failed' | 'skipped') => void;
  /** Where snapshots are written; replaced in tests to make writes fail. */
  write?: (sql: Sql, streamId: string, snapshot: StoredSnapshot, keep: SnapshotKeep) => Promise<void>;
};

/** The advisory lock class (with the stream's hash) under which a stream's snapshot writes take turns when pruning. */
const SNAPSHOT_WRITE_LOCK = 72_630_031;

type SnapshotRow = { version: number; position: number; state: SeatAvailabilitySnapshotV3 };

/**
 * Snapshots of SeatAvailability streams: loading the latest usable one (or the latest at or
 * before a time), and taking one when an append crosses the interval, off the command's path.
 */
export const createSnapshots = (sql: Sql, options: SnapshotOptions) => {
  const { interval, keep = 'all', log, onWrite = () => {}, write = writeSnapshot } = options;
  const pending = new Set<Promise<void>>();
  const writing = new Set<string>();
  const usable = (row: SnapshotRow | undefined): VersionedState | undefined =>
    row && { state: fromSnapshot(row.state), version: row.version, position: row.position };

  return {
    interval,
    keep,

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
        .then(() => write(sql, streamId, { state: toSnapshot(state), version, position }, keep))
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

/**
 * Adds a snapshot and, unless every one is kept, deletes the stream's earlier ones that `keep`
 * lets go (see keptSnapshots): in the same statement, so no reader ever sees the earlier ones gone
 * without the new one there. Only versions below the new one are deleted, so a late write of an
 * older snapshot never removes a newer one, and the latest a load would use is always there.
 */
export const writeSnapshot = async (
  sql: Sql,
  streamId: string,
  { state, version, position }: StoredSnapshot,
  keep: SnapshotKeep = 'all',
) => {
  if (keep === 'all') {
    await sql`
      insert into snapshots (stream_id, version, position, schema_version, state)
      values (${streamId}, ${version}, ${position}, ${SNAPSHOT_SCHEMA_VERSION}, ${sql.json(state)})
      on conflict (stream_id, version) do update
        set position = excluded.position, schema_version = excluded.schema_version, state = excluded.state,
            taken_at = now()
        where snapshots.schema_version <> excluded.schema_version`;
    return;
  }
  // The prune rides in the insert's statement, atomic with it. Writes of one stream take turns on
  // an advisory lock: two prunes deleting overlapping rows in different orders deadlock otherwise
  // (two processes snapshotting one conference, or a late write racing a newer one).
  await inTurn(
    sql,
    streamId,
    (tx) => tx`
      with written as (
        insert into snapshots (stream_id, version, position, schema_version, state)
        values (${streamId}, ${version}, ${position}, ${SNAPSHOT_SCHEMA_VERSION}, ${tx.json(state)})
        on conflict (stream_id, version) do update
          set position = excluded.position, schema_version = excluded.schema_version, state = excluded.state,
              taken_at = now()
          where snapshots.schema_version <> excluded.schema_version
        returning version
      )
      delete from snapshots s
      where s.stream_id = ${streamId} and s.version < ${version}
        and exists (
          select from snapshots lower
          where lower.stream_id = s.stream_id and lower.version < s.version
            and lower.version / ${keep.every} = s.version / ${keep.every})`,
  );
};

/** Runs `statement` in a transaction that first waits its turn among the stream's pruning writes. */
const inTurn = <T>(sql: Sql, streamId: string, statement: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> =>
  sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${SNAPSHOT_WRITE_LOCK}, hashtext(${streamId}))`;
    return statement(tx);
  }) as Promise<T>;

/**
 * Applies `keep` to a stream's snapshots at once (what writes do as they go), for a stream whose
 * snapshots were kept under another setting. The latest stays. Returns the rows deleted.
 */
export const pruneSnapshots = async (sql: Sql, streamId: string, keep: SnapshotKeep): Promise<number> => {
  if (keep === 'all') return 0;
  const deleted = await inTurn(
    sql,
    streamId,
    (tx) => tx`
      delete from snapshots s
      where s.stream_id = ${streamId}
        and s.version < (select max(version) from snapshots where stream_id = ${streamId})
        and exists (
          select from snapshots lower
          where lower.stream_id = s.stream_id and lower.version < s.version
            and lower.version / ${keep.every} = s.version / ${keep.every})`,
  );
  return deleted.count;
};
