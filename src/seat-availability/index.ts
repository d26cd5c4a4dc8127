export * from './types.js';
export * from './limits.js';
export { decide } from './decide.js';
export { expiresAtOf } from './holds.js';
export { evolve, evolveAll, initialState } from './evolve.js';
export {
  ABSENT,
  RESERVATION_STATUSES,
  attendeeIdOf,
  evolveReservation,
  reservationIdOf,
  reservationIdOfCommand,
  reservationOf,
  reservationsOf,
} from './reservation.js';
export { availability, type SeatTypeAvailability } from './availability.js';
export { STORED_EVENT_NAMES, toSeatAvailabilityEvent, toStoredEvent, type StoredEvent } from './stored-events.js';
export { UPCASTERS, currentVersionOf, upcast, type HoldConfirmedV1, type SeatsReservedV1 } from './event-versions.js';

/** Every conference has one stream; its id is derived from the conference id. */
export const streamIdOf = (conferenceId: string): string => `seat-availability-${conferenceId}`;
