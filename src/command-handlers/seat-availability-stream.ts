import type { EventStore, NewEvent, RecordedEvent } from '../event-store/event-store.js';
import { evolveAll, initialState, streamIdOf, type SeatAvailabilityEvent } from '../seat-availability/index.js';
import type { Snapshots, VersionedState } from '../snapshots/index.js';

/**
 * The load and append steps of a command, kept apart from the retry loop so another driver
 * (a per-conference queue that decides many commands against one loaded state) can reuse them.
 */
export type StreamDeps = { eventStore: EventStore; snapshots: Snapshots };

/** Loads a conference: the latest usable snapshot, then the events after it. */
export const loadSeatAvailability = async (deps: StreamDeps, conferenceId: string): Promise<VersionedState> => {
  const streamId = streamIdOf(conferenceId);
  const snapshot = await deps.snapshots.load(streamId);
  const tail = await deps.eventStore.readStream(streamId, { afterVersion: snapshot?.version ?? 0 });
  return replay(tail, snapshot ?? { state: initialState(), version: 0, position: 0 });
};

/** Replays a conference from its first event up to a point in time, ignoring snapshots. */
export const loadSeatAvailabilityAsOf = async (
  deps: StreamDeps,
  conferenceId: string,
  asOf: Date,
): Promise<VersionedState> => {
  const events = await deps.eventStore.readStream(streamIdOf(conferenceId), { until: asOf });
  return replay(events, { state: initialState(), version: 0, position: 0 });
};

/**
 * Appends a decision's events at the version the state was loaded at, and returns the state
 * after them. Throws `VersionConflictError` when someone else appended first; `from` is
 * untouched then, so the caller may decide again on a fresh load.
 */
export const appendSeatAvailabilityEvents = async (
  deps: StreamDeps,
  conferenceId: string,
  from: VersionedState,
  events: SeatAvailabilityEvent[],
  metadata: Record<string, unknown>,
): Promise<VersionedState> => {
  const streamId = streamIdOf(conferenceId);
  const toAppend: NewEvent[] = events.map(({ type, data }) => ({ type, data, metadata }));
  const { version, position } = await deps.eventStore.append(streamId, from.version, toAppend);
  const appended = { state: evolveAll(events, from.state), version, position };
  deps.snapshots.afterAppend(streamId, from.version, appended);
  return appended;
};

/** Brings a loaded state up to date with the events appended after it (by anyone). */
export const catchUp = async (deps: StreamDeps, conferenceId: string, from: VersionedState): Promise<VersionedState> =>
  replay(await deps.eventStore.readStream(streamIdOf(conferenceId), { afterVersion: from.version }), from);

const replay = (events: RecordedEvent[], from: VersionedState): VersionedState => {
  const last = events.at(-1);
  if (!last) return from;
  return {
    state: evolveAll(events.map(toSeatAvailabilityEvent), from.state),
    version: last.streamVersion,
    position: last.position,
  };
};

/** Events are written only by this service, so their data has the shape their type names. */
export const toSeatAvailabilityEvent = ({ type, data }: RecordedEvent): SeatAvailabilityEvent => {
  switch (type) {
    case 'ConferenceCreated':
    case 'SeatsReserved':
    case 'ReservationCancelled':
      return { type, data } as SeatAvailabilityEvent;
    default:
      throw new Error(`unknown event type ${type} in a SeatAvailability stream`);
  }
};
