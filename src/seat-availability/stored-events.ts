import type {
  Attendee,
  ConferenceCreated,
  HoldConfirmed,
  HoldExpired,
  HoldReleased,
  ReservationCancelled,
  SeatAvailabilityEvent,
  SeatQuantity,
  SeatsHeld,
  SeatsReserved,
  SeatTypeCapacity,
} from './types.js';
import { currentVersionOf, upcast, type HoldConfirmedV1, type SeatsReservedV1 } from './event-versions.js';

/** Each of the names `K`, as itself. */
type Names<K extends string> = { readonly [Name in K]: Name };

/**
 * The names under which the events are stored, for SQL that reads them where they lie (both
 * projections apply the events inside PostgreSQL), so that a field renamed in types.ts cannot
 * leave that SQL reading a name no event has any more. Each entry must list exactly the keys of
 * its type, each as itself: renaming or removing an event type or a field fails to compile here
 * until this follows, and the SQL takes its names from here.
 */
export const STORED_EVENT_NAMES = {
  eventType: {
    ConferenceCreated: 'ConferenceCreated',
    SeatsReserved: 'SeatsReserved',
    ReservationCancelled: 'ReservationCancelled',
    SeatsHeld: 'SeatsHeld',
    HoldConfirmed: 'HoldConfirmed',
    HoldReleased: 'HoldReleased',
    HoldExpired: 'HoldExpired',
  },
  anyEvent: { conferenceId: 'conferenceId' },
  conferenceCreated: { conferenceId: 'conferenceId', name: 'name', seatTypes: 'seatTypes', createdAt: 'createdAt' },
  seatsChanged: { conferenceId: 'conferenceId', reservationId: 'reservationId', seats: 'seats' },
  seatTypeCapacity: { type: 'type', capacity: 'capacity' },
  seatQuantity: { seatType: 'seatType', quantity: 'quantity' },
  namesAttendee: { attendee: 'attendee' },
  attendee: { id: 'id', personalData: 'personalData' },
  times: {
    SeatsReserved: { reservedAt: 'reservedAt' },
    ReservationCancelled: { cancelledAt: 'cancelledAt' },
    SeatsHeld: { heldAt: 'heldAt', expiresAt: 'expiresAt' },
    HoldConfirmed: { confirmedAt: 'confirmedAt' },
    HoldReleased: { releasedAt: 'releasedAt' },
    HoldExpired: { expiresAt: 'expiresAt', expiredAt: 'expiredAt' },
  },
} as const satisfies {
  eventType: Names<SeatAvailabilityEvent['type']>;
  /** The data fields every event has. */
  anyEvent: Names<keyof SeatAvailabilityEvent['data']>;
  conferenceCreated: Names<keyof ConferenceCreated['data']>;
  /**
   * The data fields every event that moves seats has: a reservation or a hold takes them, a
   * confirm moves them from held to reserved, a cancel, a release or an expiry gives them back.
   */
  seatsChanged: Names<keyof SeatMovingEvent['data']>;
  /** An element of ConferenceCreated's `seatTypes`. */
  seatTypeCapacity: Names<keyof SeatTypeCapacity>;
  /** An element of the `seats` of any event that moves seats. */
  seatQuantity: Names<keyof SeatQuantity>;
  /** The field of the events that name an attendee (null when they name none). */
  namesAttendee: Names<keyof SeatsReserved['data'] & keyof HoldConfirmed['data'] & 'attendee'>;
  /** The attendee such an event names: the id, which the reservations view keeps, and the sealed personal fields. */
  attendee: Names<keyof Attendee>;
  /** The times each event that moves seats records, by event type: its data fields besides `seatsChanged`'s. */
  times: { [Type in SeatMovingEvent['type']]: Names<TimeFields<Extract<SeatMovingEvent, { type: Type }>>> };
};

/** Every event that moves seats: the one-step reservation and its cancel, and the checkout flow. */
type SeatMovingEvent = SeatsReserved | ReservationCancelled | SeatsHeld | HoldConfirmed | HoldReleased | HoldExpired;

/**
 * The data fields of one event that moves seats that not every such event has, but the attendee
 * (personal data, which no statement reads where it lies).
 */
type TimeFields<Event extends SeatMovingEvent> = Exclude<
  keyof Event['data'] & string,
  keyof SeatMovingEvent['data'] | 'attendee'
>;

/**
 * The fields read where they lie exist in every version of their events: the SQL reads stored
 * data, which no upcaster has passed through. This fails to compile when a new version renames
 * or drops one of them; that SQL must then learn to read the older versions too.
 */
type ReadWhereTheyLie = keyof typeof STORED_EVENT_NAMES.seatsChanged;
const _readInEveryVersion: [ReadWhereTheyLie | 'reservedAt'] extends [keyof SeatsReservedV1]
  ? [ReadWhereTheyLie | 'confirmedAt'] extends [keyof HoldConfirmedV1]
    ? true
    : never
  : never = true;

const isEventType = (type: string): type is SeatAvailabilityEvent['type'] =>
  Object.hasOwn(STORED_EVENT_NAMES.eventType, type);

/** An event as the store keeps it: its type, the version of its data's shape, and the data. */
export type StoredEvent = { type: string; schemaVersion: number; data: unknown };

/**
 * A stored event as the domain's event, in the current shape of its type whatever version it was
 * written in (event-versions.ts), for every reader of the events: it lives in the domain so the
 * read side does not decode through the write side. Events are written only by this service, so
 * their data has the shape their type and version name.
 */
export const toSeatAvailabilityEvent = ({ type, schemaVersion, data }: StoredEvent): SeatAvailabilityEvent => {
  if (!isEventType(type)) throw new Error(`unknown event type ${type} in a SeatAvailability stream`);
  return { type, data: upcast(type, schemaVersion, data) } as SeatAvailabilityEvent;
};

/** A domain event as the store takes it: in the current version of its type. */
export const toStoredEvent = (event: SeatAvailabilityEvent): StoredEvent => ({
  type: event.type,
  schemaVersion: currentVersionOf(event.type),
  data: event.data,
});
