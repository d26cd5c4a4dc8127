import type { HoldConfirmed, SeatAvailabilityEvent, SeatsReserved } from './types.js';

/**
 * How events that changed shape are read: the store keeps every event as it was written, with
 * the version of its shape, and readers bring an older shape up to the current one, a version at
 * a time. Each event type has one chain of upcasters; the current version of a type is one more
 * than the steps of its chain, so adding a step is how a new version is made, and every reader
 * (`toSeatAvailabilityEvent`) sees only the current shape. Upcasters are pure: data in, data out.
 * A worked example of a change is in docs/architecture.md.
 */

type EventType = SeatAvailabilityEvent['type'];

/** The current data of an event type. */
type DataOf<Type extends EventType> = Extract<SeatAvailabilityEvent, { type: Type }>['data'];

/** SeatsReserved as version 1 wrote it: before reservations named their attendee. */
export type SeatsReservedV1 = Omit<SeatsReserved['data'], 'attendee'>;

/** HoldConfirmed as version 1 wrote it: before a confirmed hold named its attendee. */
export type HoldConfirmedV1 = Omit<HoldConfirmed['data'], 'attendee'>;

/**
 * An event of version 1 names no attendee: it reads as naming none. `Object.assign` rather than a
 * spread: over 42,000 events parsed from JSON the spread took 102 ms, this 26 ms (bench:versions).
 */
const withoutAttendee = <Data extends object>(data: Data): Data & { attendee: null } =>
  Object.assign({}, data, { attendee: null });

/**
 * Each event type's chain: the step at index i reads version i + 1 and gives version i + 2. The
 * last step of each gives the current data of its type, and each step takes what the one before
 * it gives: `_chainsLink` below fails to compile otherwise.
 */
export const UPCASTERS = {
  ConferenceCreated: [],
  SeatsReserved: [(data: SeatsReservedV1): SeatsReserved['data'] => withoutAttendee(data)],
  ReservationCancelled: [],
  SeatsHeld: [],
  HoldConfirmed: [(data: HoldConfirmedV1): HoldConfirmed['data'] => withoutAttendee(data)],
  HoldReleased: [],
  HoldExpired: [],
} as const;

type Step = (data: never) => unknown;

/** Whether `Steps` read in turn end at `Current`: each step's output is what the next one reads. */
type Links<Current, Steps extends readonly Step[]> = Steps extends readonly []
  ? true
  : Steps extends readonly [...infer Earlier extends readonly Step[], infer Last extends Step]
    ? [ReturnType<Last>] extends [Current]
      ? Links<Parameters<Last>[0], Earlier>
      : false
    : false;

/** The event types whose chain does not link up to their current data (none, or this fails to compile). */
type Broken = {
  [Type in EventType]: Links<DataOf<Type>, (typeof UPCASTERS)[Type]> extends true ? never : Type;
}[EventType];
const _chainsLink: [Broken] extends [never] ? true : Broken = true;

/** The version each event type is written in now. */
export const currentVersionOf = (type: EventType): number => UPCASTERS[type].length + 1;

/**
 * The data of a stored event in the current shape of its type. A version below 1 or above the
 * current one is an error, never guessed at: the event is corrupt, or a newer release wrote it
 * and this one must not decide on data it cannot read.
 */
export const upcast = <Type extends EventType>(type: Type, schemaVersion: number, data: unknown): DataOf<Type> => {
  const steps: readonly ((data: unknown) => unknown)[] = UPCASTERS[type] as readonly Step[] as never;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > steps.length + 1) {
    throw new Error(`${type} of schema version ${schemaVersion}: this release reads versions 1 to ${steps.length + 1}`);
  }
  let upcasted = data;
  for (let step = schemaVersion - 1; step < steps.length; step++) upcasted = steps[step]!(upcasted);
  return upcasted as DataOf<Type>;
};
