import type { Availability, Bookings, BookingResult, Reservation, ReservationKey } from './bookings.js';
import {
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  type CommandOutcome,
  type SeatAvailabilityHandlers,
  type StreamDeps,
} from './command-handlers/index.js';
import type { ReadModel } from './projections/index.js';
import { availability, type OpenConference } from './seat-availability/index.js';
import type { VersionedState } from './snapshots/index.js';

/**
 * The event-sourced booking design: commands go through the SeatAvailability aggregate; reads
 * come from the projected views, or from the aggregate when asked for strong consistency or for
 * a past time.
 */
export const eventSourcedBookings = (
  handlers: SeatAvailabilityHandlers,
  stream: StreamDeps,
  views: ReadModel,
): Bookings => ({
  createConference: async (input, metadata) =>
    toResult(await handlers.createConference(input, metadata), toAvailability),

  reserveSeats: async (input, metadata) => toReservationResult(await handlers.reserveSeats(input, metadata), input),

  cancelReservation: async (input, metadata) =>
    toReservationResult(await handlers.cancelReservation(input, metadata), input),

  holdSeats: async (input, metadata) => toReservationResult(await handlers.holdSeats(input, metadata), input),

  confirmReservation: async (input, metadata) =>
    toReservationResult(await handlers.confirmReservation(input, metadata), input),

  releaseHold: async (input, metadata) => toReservationResult(await handlers.releaseHold(input, metadata), input),

  availability: async (conferenceId, consistency) =>
    consistency === 'strong'
      ? openOrUndefined(await loadSeatAvailability(stream, conferenceId))
      : views.availability(conferenceId),

  availabilityAsOf: async (conferenceId, asOf) =>
    openOrUndefined(await loadSeatAvailabilityAsOf(stream, conferenceId, asOf)),

  conferences: () => views.conferences(),

  reservation: (conferenceId, reservationId) => views.reservation(conferenceId, reservationId),

  reservations: (conferenceId, page) => views.reservations(conferenceId, page),
});

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
    },
  };
};
