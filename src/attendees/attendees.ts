import type { Attendee, SeatAvailabilityEvent } from '../seat-availability/index.js';
import type { AttendeeKeys } from './attendee-keys.js';
import { openPersonalData, sealPersonalData, type PersonalData, type SealedIn } from './personal-data.js';

/** An attendee as a reader is shown them: their personal fields, or that they were forgotten. */
export type RevealedAttendee = { id: string } & (PersonalData | { forgotten: true });

/** The attendee an event names, and where its personal fields were sealed; undefined when it names none. */
const attendeeOf = (event: SeatAvailabilityEvent): { attendee: Attendee; where: SealedIn } | undefined => {
  if (event.type !== 'SeatsReserved' && event.type !== 'HoldConfirmed') return undefined;
  const { attendee, conferenceId, reservationId } = event.data;
  if (!attendee) return undefined;
  return { attendee, where: { attendeeId: attendee.id, eventType: event.type, conferenceId, reservationId } };
};

/**
 * Personal data at the edges: sealed before a command carries it to the store, revealed (or
 * shown forgotten) when a reader asks, forgotten by deleting the attendee's key. Nothing else
 * sees it: decisions, views and snapshots hold only the attendee's id.
 */
export const createAttendees = (keys: AttendeeKeys) => ({
  /**
   * A new attendee for these personal fields, sealed for the event that will carry them; `unused`
   * gives their key back when the command appended nothing (no event names them).
   */
  name: async (
    personal: PersonalData,
    where: Omit<SealedIn, 'attendeeId'>,
  ): Promise<{ attendee: Attendee; unused: () => void }> => {
    const issued = await keys.issue();
    const { attendeeId, key } = issued;
    return {
      attendee: { id: attendeeId, personalData: sealPersonalData(key, personal, { ...where, attendeeId }) },
      unused: () => keys.giveBack(issued),
    };
  },

  /**
   * The attendee each event names, revealed, in the events' order (undefined where it names
   * none). Throws when a key is missing or does not open what it sealed: a reader is never shown
   * an event without its attendee as if it had none.
   */
  reveal: async (events: SeatAvailabilityEvent[]): Promise<(RevealedAttendee | undefined)[]> => {
    const named = events.map(attendeeOf);
    const found = await keys.keysOf(named.flatMap((each) => (each ? [each.attendee.id] : [])));
    return named.map((each) => {
      if (!each) return undefined;
      const { attendee, where } = each;
      const known = found.get(attendee.id);
      if (!known) throw new Error(`no key for attendee ${attendee.id}, named by a ${where.eventType}`);
      if (!('key' in known)) return { id: attendee.id, forgotten: true };
      return { id: attendee.id, ...openPersonalData(known.key, attendee.personalData, where) };
    });
  },

  /** Forgets an attendee: deletes their key (see AttendeeKeys.forget). */
  forget: (attendeeId: string) => keys.forget(attendeeId),
});

export type Attendees = ReturnType<typeof createAttendees>;
