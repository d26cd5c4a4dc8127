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
 * an interval of events), or `{ every: K }`: the latest, which loads use, and the lowest of each
 * span of K versions (versions bK to bK + K - 1), so a point-in-time read replays fewer than 2K
 * events. Not "the multiples of K": the batched path snapshots where a batch ends (version 103
 * for a batch from 97), and under load seldom on an exact multiple.
 */
export type SnapshotKeep = 'all' | { every: number };

/** The versions of a stream's snapshots that `keep` keeps, in ascending order. */
export const keptSnapshots = (keep: SnapshotKeep, versions: readonly number[]): number[] => {
  const ascending = [...versions].sort((a, b) => a - b);
  if (keep === 'all') return ascending;
  const latest = ascending.at(-1);
  return ascending.filter(
    (version, i) =>
      version === latest || i === 0 || Math.floor(ascending[i - 1]! / keep.every) < Math.floor(version / keep.every),
  );
};
