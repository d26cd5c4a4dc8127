import type { OpenConference, Reservation, SeatAvailability } from '../seat-availability/index.js';

/**
 * The shape of a stored SeatAvailability state. Bump `SNAPSHOT_SCHEMA_VERSION` whenever this
 * shape or the meaning of the state changes: snapshots of another version are then ignored
 * (full replay), never trusted.
 */
export const SNAPSHOT_SCHEMA_VERSION = 1;

/** Compact on purpose: a conference's state holds every reservation ever made. Read back with `fromSnapshot`. */
export type SeatAvailabilitySnapshotV1 = {
  conferenceId: string;
  name: string;
  /** [type, capacity, reserved] */
  seatTypes: [string, number, number][];
  /** [reservationId, 'r' (reserved) or 'c' (cancelled), [seatType, quantity][]] */
  reservations: [string, 'r' | 'c', [string, number][]][];
};

/** Reservations serialised per turn of the event loop by `serializeSnapshot`. */
export const RESERVATIONS_PER_TURN = 5000;

/**
 * The snapshot as JSON text in the shape above, built a slice of reservations per
 * turn of the event loop. A hot conference's state holds hundreds of thousands of reservations:
 * converting it in one go stalled every request of the process for up to 0.3 s (measured in a
 * 60 s surge). The state must not change until the promise settles (see conference-writer.ts).
 */
export const serializeSnapshot = async (state: OpenConference): Promise<string> => {
  const head = JSON.stringify(snapshotHead(state));
  const parts: string[] = [];
  let slice: SeatAvailabilitySnapshotV1['reservations'] = [];
  for (const entry of state.reservations) {
    slice.push(toStoredReservation(entry));
    if (slice.length === RESERVATIONS_PER_TURN) {
      parts.push(JSON.stringify(slice).slice(1, -1));
      slice = [];
      await new Promise((next) => setImmediate(next));
    }
  }
  if (slice.length > 0) parts.push(JSON.stringify(slice).slice(1, -1));
  return `${head.slice(0, -1)},"reservations":[${parts.join(',')}]}`;
};

const snapshotHead = (state: OpenConference): Omit<SeatAvailabilitySnapshotV1, 'reservations'> => ({
  conferenceId: state.conferenceId,
  name: state.name,
  seatTypes: [...state.seatTypes].map(([type, { capacity, reserved }]) => [type, capacity, reserved]),
});

const toStoredReservation = ([id, { status, seats }]: [
  string,
  Reservation,
]): SeatAvailabilitySnapshotV1['reservations'][number] => [
  id,
  status === 'reserved' ? 'r' : 'c',
  seats.map(({ seatType, quantity }) => [seatType, quantity]),
];

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
