/**
 * How many reservations a snapshot may hold per event it saves from replay. A snapshot holds
 * every reservation of the conference, so its cost grows with the state while the replay it
 * saves is bounded by the step: once a state holds more than this many reservations per
 * `interval` events, the step doubles (see `snapshotStep`).
 */
export const RESERVATIONS_PER_SNAPSHOT_EVENT = 10;

/**
 * The snapshot step for a state holding `stateSize` reservations: `interval` for a small state,
 * and for a large one the smallest `interval × 2^k` covering a tenth of the state. Writing a
 * snapshot then costs at most ~10 reservations per event appended (a hot stream would otherwise
 * rewrite a multi-megabyte state every `interval` events, measured to cost a third of the
 * throughput under a surge), while a load replays at most a step of events, under a fifth of the
 * reservations it reads from the snapshot. Powers of two keep every step a multiple of the last.
 */
export const snapshotStep = (interval: number, stateSize: number): number => {
  let step = interval;
  while (step * RESERVATIONS_PER_SNAPSHOT_EVENT < stateSize) step *= 2;
  return step;
};

/**
 * The snapshot policy: a snapshot is due when an append carries the stream across a multiple of
 * the step (an append of several events may jump over the exact multiple). Interval 0 = never.
 */
export const snapshotDue = (interval: number, versionBefore: number, versionAfter: number, stateSize = 0): boolean => {
  if (interval <= 0) return false;
  const step = snapshotStep(interval, stateSize);
  return Math.floor(versionAfter / step) > Math.floor(versionBefore / step);
};
