import type { OpenConference, SeatAvailability } from '../seat-availability/index.js';

/**
 * The shape of a stored SeatAvailability state. Bump `SNAPSHOT_SCHEMA_VERSION` whenever this
 * shape or the meaning of the state changes: snapshots of another version are then ignored
 * (full replay), never trusted.
 */
export const SNAPSHOT_SCHEMA_VERSION = 1;

/** Compact on purpose: a conference's state holds every reservation ever made. */
export type SeatAvailabilitySnapshotV1 = {
  conferenceId: string;
  name: string;
  /** [type, capacity, reserved] */
  seatTypes: [string, number, number][];
  /** [reservationId, 'r' (reserved) or 'c' (cancelled), [seatType, quantity][]] */
  reservations: [string, 'r' | 'c', [string, number][]][];
};

export const toSnapshot = (state: OpenConference): SeatAvailabilitySnapshotV1 => ({
  conferenceId: state.conferenceId,
  name: state.name,
  seatTypes: [...state.seatTypes].map(([type, { capacity, reserved }]) => [type, capacity, reserved]),
  reservations: [...state.reservations].map(([id, { status, seats }]) => [
    id,
    status === 'reserved' ? 'r' : 'c',
    seats.map(({ seatType, quantity }) => [seatType, quantity]),
  ]),
});

export const fromSnapshot = (snapshot: SeatAvailabilitySnapshotV1): SeatAvailability => ({
  status: 'open',
  conferenceId: snapshot.conferenceId,
  name: snapshot.name,
  seatTypes: new Map(snapshot.seatTypes.map(([type, capacity, reserved]) => [type, { capacity, reserved }])),
  reservations: new Map(
    snapshot.reservations.map(([id, status, seats]) => [
      id,
      {
        status: status === 'r' ? 'reserved' : 'cancelled',
        seats: seats.map(([seatType, quantity]) => ({ seatType, quantity })),
      },
    ]),
  ),
});
