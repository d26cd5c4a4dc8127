import type { SeatQuantity, SeatTypeCapacity } from '../seat-availability/index.js';
import { handleCommand, type CommandDeps, type CommandMetadata, type CommandOutcome } from './handle-command.js';

export { BusyError } from './busy-error.js';
export { backoffDelay, retryAfterSeconds, type RetryPolicy } from './retry-policy.js';
export { handleCommand, type CommandDeps, type CommandMetadata, type CommandOutcome } from './handle-command.js';
export {
  appendSeatAvailabilityEvents,
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  toSeatAvailabilityEvent,
  type StreamDeps,
} from './seat-availability-stream.js';

export type SeatAvailabilityHandlers = ReturnType<typeof createCommandHandlers>;

/**
 * The three commands of the event-sourced write path, stamped with the clock's time.
 * Each is one call of `handleCommand`; a queue in front of it can batch them later.
 */
export const createCommandHandlers = (deps: CommandDeps & { clock: () => Date }) => {
  const now = () => deps.clock().toISOString();
  return {
    createConference: (
      input: { conferenceId: string; name: string; seatTypes: SeatTypeCapacity[] },
      metadata: CommandMetadata = {},
    ): Promise<CommandOutcome> => handleCommand(deps, { type: 'CreateConference', ...input, now: now() }, metadata),

    reserveSeats: (
      input: { conferenceId: string; reservationId: string; seats: SeatQuantity[] },
      metadata: CommandMetadata = {},
    ): Promise<CommandOutcome> => handleCommand(deps, { type: 'ReserveSeats', ...input, now: now() }, metadata),

    cancelReservation: (
      input: { conferenceId: string; reservationId: string },
      metadata: CommandMetadata = {},
    ): Promise<CommandOutcome> => handleCommand(deps, { type: 'CancelReservation', ...input, now: now() }, metadata),
  };
};
