export {
  createSnapshots,
  writeSnapshot,
  type Snapshots,
  type SnapshotOptions,
  type VersionedState,
  type StoredSnapshot,
} from './snapshots.js';
export { snapshotDue, snapshotStep } from './snapshot-policy.js';
export { SNAPSHOT_SCHEMA_VERSION, toSnapshot, fromSnapshot } from './seat-availability-snapshot.js';
