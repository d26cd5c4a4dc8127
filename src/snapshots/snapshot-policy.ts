/**
 * The snapshot policy: a snapshot is due when an append carries the stream across a multiple of
 * the interval (an append of several events may jump over the exact multiple). Interval 0 =
 * never. The state is a few counts, so a snapshot costs the same at every version: a load
 * replays fewer than `interval` events after the latest one.
 */
export const snapshotDue = (interval: number, versionBefore: number, versionAfter: number): boolean =>
  interval > 0 && Math.floor(versionAfter / interval) > Math.floor(versionBefore / interval);

/**
 * Which snapshots a stream keeps: `all` (every one, so a point-in-time read replays fewer than
 * an interval of events), or `{ every: K }`: the latest, which loads use, and those at multiples
 * of K, so a point-in-time read replays fewer than K events. K is a multiple of the interval
 * (config.ts checks it), so a snapshot lands on every multiple of K.
 */
export type SnapshotKeep = 'all' | { every: number };

/** Whether a snapshot at `version` is kept once the stream has one at `latestVersion`. */
export const snapshotKept = (keep: SnapshotKeep, version: number, latestVersion: number): boolean =>
  keep === 'all' || version >= latestVersion || version % keep.every === 0;
