import type { EventStore, NewEvent, RecordedEvent } from '../event-store/event-store.js';
import {
  evolveAll,
  initialState,
  reservationIdOf,
  streamIdOf,
  toSeatAvailabilityEvent,
  toStoredEvent,
  type SeatAvailabilityEvent,
} from '../seat-availability/index.js';
import type { Snapshots, VersionedState } from '../snapshots/index.js';

/**
 * How a SeatAvailability stream is read and written: loaded (snapshot and tail), caught up,
 * and its events translated to and from the store's (see write-pipeline.ts for the write path).
 */
export type StreamDeps = { eventStore: EventStore; snapshots: Snapshots };

/** Loads a conference: the latest usable snapshot, then the events after it. */
export const loadSeatAvailability = async (deps: StreamDeps, conferenceId: string): Promise<VersionedState> => {
  const streamId = streamIdOf(conferenceId);
  const snapshot = await deps.snapshots.load(streamId);
  const tail = await deps.eventStore.readStream(streamId, { afterVersion: snapshot?.version ?? 0 });
  return replay(tail, snapshot ?? { state: initialState(), version: 0, position: 0 });
};

/**
 * A conference as it was at a point in time: the stream version its last event recorded by then
 * names, the latest snapshot at or before that version, and the events after it recorded by then
 * (fewer than an interval of them, whatever the stream's length).
 */
export const loadSeatAvailabilityAsOf = async (
  deps: StreamDeps,
  conferenceId: string,
  asOf: Date,
): Promise<VersionedState> => {
  const streamId = streamIdOf(conferenceId);
  const version = await deps.eventStore.versionAt(streamId, asOf);
  const snapshot = await deps.snapshots.loadAt(streamId, version);
  const events = await deps.eventStore.readStream(streamId, {
    afterVersion: snapshot?.version ?? 0,
    upToVersion: version,
    until: asOf,
  });
  return replay(events, snapshot ?? { state: initialState(), version: 0, position: 0 });
};

/**
 * Brings a loaded state up to date with the events appended after it (by anyone); the events
 * are returned too, for what the caller keeps of the reservations they name.
 */
export const catchUp = async (
  deps: StreamDeps,
  conferenceId: string,
  from: VersionedState,
): Promise<{ caughtUp: VersionedState; events: SeatAvailabilityEvent[] }> => {
  const recorded = await deps.eventStore.readStream(streamIdOf(conferenceId), { afterVersion: from.version });
  return { caughtUp: replay(recorded, from), events: recorded.map(toSeatAvailabilityEvent) };
};

const replay = (events: RecordedEvent[], from: VersionedState): VersionedState => {
  const last = events.at(-1);
  if (!last) return from;
  return {
    state: evolveAll(events.map(toSeatAvailabilityEvent), from.state),
    version: last.streamVersion,
    position: last.position,
  };
};

/**
 * An event as the store takes it, in its type's current version: a SeatAvailability stream's events are keyed by the
 * reservation they are about, so a reservation's earlier events are found by its id, and an
 * append can require that the ids it decided as new have no events yet.
 */
export const toNewEvent = (event: SeatAvailabilityEvent, metadata: Record<string, unknown>): NewEvent => ({
  ...toStoredEvent(event),
  metadata,
  key: reservationIdOf(event),
});
