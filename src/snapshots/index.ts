export {
  createSnapshots,
  pruneSnapshots,
  writeSnapshot,
  type Snapshots,
  type SnapshotOptions,
  type VersionedState,
  type StoredSnapshot,
} from './snapshots.js';
export { keptSnapshots, snapshotDue, type SnapshotKeep } from './snapshot-policy.js';
export {
  SNAPSHOT_SCHEMA_VERSION,
  fromSnapshot,
  toSnapshot,
  type SeatAvailabilitySnapshotV3,
} from './seat-availability-snapshot.js';
