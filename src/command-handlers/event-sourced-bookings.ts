import type { Availability, Bookings, BookingResult, Reservation } from '../bookings.js';
import { availability, type OpenConference } from '../seat-availability/index.js';
import type { VersionedState } from '../snapshots/index.js';
import type { CommandOutcome } from './handle-command.js';
import type { SeatAvailabilityHandlers, StreamDeps } from './index.js';
import { loadSeatAvailability } from './seat-availability-stream.js';

/** The event-sourced booking design: commands through the SeatAvailability aggregate. */
export const eventSourcedBookings = (handlers: SeatAvailabilityHandlers, deps: StreamDeps): Bookings => ({
  createConference: async (input, metadata) =>
    toResult(await handlers.createConference(input, metadata), (loaded) => toAvailability(loaded)),

  reserveSeats: async (input, metadata) =>
    toResult(await handlers.reserveSeats(input, metadata), (loaded) => toReservation(loaded.state, input)),

  cancelReservation: async (input, metadata) =>
    toResult(await handlers.cancelReservation(input, metadata), (loaded) => toReservation(loaded.state, input)),

  // Until a read model exists, both consistencies read the aggregate.
  availability: async (conferenceId) => {
    const { state, version, position } = await loadSeatAvailability(deps, conferenceId);
    return state.status === 'open' ? toAvailability({ state, version, position }) : undefined;
  },
});

const toResult = <T>(
  outcome: CommandOutcome,
  value: (loaded: VersionedState & { state: OpenConference }) => T,
): BookingResult<T> => {
  if (outcome.kind === 'rejected') return outcome;
  if (outcome.state.status !== 'open') throw new Error('an accepted command leaves the conference open');
  return { kind: 'ok', created: outcome.appended > 0, value: value({ ...outcome, state: outcome.state }) };
};

export const toAvailability = ({
  state,
  version,
  position,
}: VersionedState & { state: OpenConference }): Availability => ({
  conferenceId: state.conferenceId,
  name: state.name,
  seatTypes: availability(state),
  position,
  version,
});

const toReservation = (state: OpenConference, input: { conferenceId: string; reservationId: string }): Reservation => {
  const reservation = state.reservations.get(input.reservationId);
  if (!reservation) throw new Error(`accepted reservation ${input.reservationId} is missing from the state`);
  return {
    reservationId: input.reservationId,
    conferenceId: input.conferenceId,
    seats: reservation.seats,
    status: reservation.status,
  };
};
