/**
 * The snapshot policy: a snapshot is due when an append carries the stream across a multiple of
 * the interval (an append of several events may jump over the exact multiple). 0 = never.
 */
export const snapshotDue = (interval: number, versionBefore: number, versionAfter: number): boolean =>
  interval > 0 && Math.floor(versionAfter / interval) > Math.floor(versionBefore / interval);
