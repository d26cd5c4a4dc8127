/**
 * The snapshot policy: a snapshot is due when an append carries the stream across a multiple of
 * the interval (an append of several events may jump over the exact multiple). Interval 0 =
 * never. The state is a few counts, so a snapshot costs the same at every version: a load
 * replays fewer than `interval` events after the latest one.
 */
export const snapshotDue = (interval: number, versionBefore: number, versionAfter: number): boolean =>
  interval > 0 && Math.floor(versionAfter / interval) > Math.floor(versionBefore / interval);
