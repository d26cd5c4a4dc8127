import type { Attendees, PersonalData } from './attendees/index.js';
import type { Availability, Bookings, BookingResult, Reservation, ReservationKey } from './bookings.js';
import {
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  type CommandOutcome,
  type SeatAvailabilityHandlers,
  type StreamDeps,
} from './command-handlers/index.js';
import type { ReadModel } from './projections/index.js';
import {
  attendeeIdOf,
  availability,
  streamIdOf,
  toSeatAvailabilityEvent,
  type Attendee,
  type OpenConference,
  type SeatAvailabilityEvent,
} from './seat-availability/index.js';
import type { VersionedState } from './snapshots/index.js';

/**
 * The event-sourced booking design: commands go through the SeatAvailability aggregate; reads
 * come from the projected views, or from the aggregate when asked for strong consistency or for
 * a past time. An attendee's personal fields are sealed before the command (`attendees`), and
 * revealed only where a reservation is read by its id.
 */
export const eventSourcedBookings = (
  handlers: SeatAvailabilityHandlers,
  stream: StreamDeps,
  views: ReadModel,
  attendees: Attendees,
): Bookings => ({
  createConference: async (input, metadata) =>
    toResult(await handlers.createConference(input, metadata), toAvailability),

  reserveSeats: async ({ attendee, ...input }, metadata) =>
    toReservationResult(
      await (attendee
        ? withSealedAttendee(attendees, attendee, { eventType: 'SeatsReserved', ...input }, (named) =>
            handlers.reserveSeats({ ...input, attendee: named }, metadata),
          )
        : handlers.reserveSeats(input, metadata)),
      input,
    ),

  cancelReservation: async (input, metadata) =>
    toReservationResult(await handlers.cancelReservation(input, metadata), input),

  holdSeats: async (input, metadata) => toReservationResult(await handlers.holdSeats(input, metadata), input),

  confirmReservation: async ({ attendee, ...input }, metadata) =>
    toReservationResult(
      await (attendee
        ? withSealedAttendee(attendees, attendee, { eventType: 'HoldConfirmed', ...input }, (named) =>
            handlers.confirmReservation({ ...input, attendee: named }, metadata),
          )
        : handlers.confirmReservation(input, metadata)),
      input,
    ),

  releaseHold: async (input, metadata) => toReservationResult(await handlers.releaseHold(input, metadata), input),

  availability: async (conferenceId, consistency) =>
    consistency === 'strong'
      ? openOrUndefined(await loadSeatAvailability(stream, conferenceId))
      : views.availability(conferenceId),

  availabilityAsOf: async (conferenceId, asOf) =>
    openOrUndefined(await loadSeatAvailabilityAsOf(stream, conferenceId, asOf)),

  conferences: () => views.conferences(),

  reservation: async (conferenceId, reservationId) => {
    const reservation = await views.reservation(conferenceId, reservationId);
    if (!reservation?.attendee) return reservation;
    return { ...reservation, attendee: await revealAttendee(stream, attendees, reservation, reservation.attendee.id) };
  },

  reservations: (conferenceId, page) => views.reservations(conferenceId, page),

  namesAttendees: true,
});

/**
 * Carries out a command that names an attendee: seals their personal fields first (a key issued
 * and stored for them), and gives that key back when the command appended nothing (rejected, or
 * a repeat, which keeps the attendee it named first). Not on an error: the command may have
 * committed without its answer (see the database-loss tests).
 */
const withSealedAttendee = async (
  attendees: Attendees,
  personal: PersonalData,
  where: { eventType: SeatAvailabilityEvent['type']; conferenceId: string; reservationId: string },
  command: (attendee: Attendee) => Promise<CommandOutcome>,
): Promise<CommandOutcome> => {
  const { attendee, unused } = await attendees.name(personal, where);
  const outcome = await command(attendee);
  if (outcome.kind === 'rejected' || outcome.appended === 0) unused();
  return outcome;
};

/**
 * The attendee a reservation names, from the event that named them (the views keep the id only),
 * with their personal fields or shown forgotten.
 */
const revealAttendee = async (
  stream: StreamDeps,
  attendees: Attendees,
  { conferenceId, reservationId }: ReservationKey,
  attendeeId: string,
) => {
  const { events } = await stream.eventStore.readByKeys(streamIdOf(conferenceId), [reservationId]);
  const naming = events
    .map(toSeatAvailabilityEvent)
    .filter((event) => 'attendee' in event.data && event.data.attendee?.id === attendeeId);
  const [revealed] = await attendees.reveal(naming.slice(-1));
  if (!revealed) throw new Error(`no event of reservation ${reservationId} names attendee ${attendeeId}`);
  return revealed;
};

type OpenState = VersionedState & { state: OpenConference };

const openOrUndefined = ({ state, version, position }: VersionedState): Availability | undefined =>
  state.status === 'open' ? toAvailability({ state, version, position }) : undefined;

const toResult = <T>(outcome: CommandOutcome, value: (loaded: OpenState) => T): BookingResult<T> => {
  if (outcome.kind === 'rejected') return outcome;
  const { state, version, position } = outcome;
  if (state.status !== 'open') throw new Error('an accepted command leaves the conference open');
  return { kind: 'ok', created: outcome.appended > 0, value: value({ state, version, position }) };
};

const toAvailability = ({ state, version, position }: OpenState): Availability => ({
  conferenceId: state.conferenceId,
  name: state.name,
  seatTypes: availability(state),
  position,
  version,
});

/** An accepted command, answered with its reservation as it stands after the command. */
const toReservationResult = (outcome: CommandOutcome, input: ReservationKey): BookingResult<Reservation> => {
  if (outcome.kind === 'rejected') return outcome;
  const { reservation } = outcome;
  const attendeeId = attendeeIdOf(reservation);
  if (reservation.status === 'absent') throw new Error(`accepted reservation ${input.reservationId} names nothing`);
  return {
    kind: 'ok',
    created: outcome.appended > 0,
    value: {
      reservationId: input.reservationId,
      conferenceId: input.conferenceId,
      seats: reservation.seats,
      status: reservation.status,
      ...('expiresAt' in reservation ? { expiresAt: reservation.expiresAt } : {}),
      ...(attendeeId === undefined ? {} : { attendee: { id: attendeeId } }),
    },
  };
};
