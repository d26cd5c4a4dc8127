export {
  createSnapshots,
  writeSnapshot,
  type Snapshots,
  type SnapshotOptions,
  type VersionedState,
  type StoredSnapshot,
} from './snapshots.js';
export { snapshotDue, snapshotStep } from './snapshot-policy.js';
export {
  SNAPSHOT_SCHEMA_VERSION,
  RESERVATIONS_PER_TURN,
  fromSnapshot,
  serializeSnapshot,
} from './seat-availability-snapshot.js';
