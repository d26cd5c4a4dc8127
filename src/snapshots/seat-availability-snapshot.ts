import type { OpenConference, SeatAvailability } from '../seat-availability/index.js';

/**
 * The shape of a stored SeatAvailability state. Bump `SNAPSHOT_SCHEMA_VERSION` whenever this
 * shape or the meaning of the state changes: snapshots of another version are then ignored
 * (full replay), never trusted. Version 1 held every reservation ever made; version 2 is the
 * lean state, the seat counts alone; version 3 adds the seats held by pending holds to the counts.
 */
export const SNAPSHOT_SCHEMA_VERSION = 3;

/** A few dozen bytes per seat type, whatever the conference's history. Read back with `fromSnapshot`. */
export type SeatAvailabilitySnapshotV3 = {
  conferenceId: string;
  name: string;
  /** [type, capacity, reserved, held], in the order the conference was created with */
  seatTypes: [string, number, number, number][];
};

export const toSnapshot = (state: OpenConference): SeatAvailabilitySnapshotV3 => ({
  conferenceId: state.conferenceId,
  name: state.name,
  seatTypes: [...state.seatTypes].map(([type, { capacity, reserved, held }]) => [type, capacity, reserved, held]),
});

export const fromSnapshot = (snapshot: SeatAvailabilitySnapshotV3): SeatAvailability => ({
  status: 'open',
  conferenceId: snapshot.conferenceId,
  name: snapshot.name,
  seatTypes: new Map(
    snapshot.seatTypes.map(([type, capacity, reserved, held]) => [type, { capacity, reserved, held }]),
  ),
});
