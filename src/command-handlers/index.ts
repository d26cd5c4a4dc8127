import type { SeatAvailabilityCommand, SeatQuantity, SeatTypeCapacity } from '../seat-availability/index.js';
import type { CommandMetadata, CommandOutcome } from './command-outcome.js';

export { BusyError } from './busy-error.js';
export { backoffDelay, retryAfterSeconds, type RetryPolicy } from './retry-policy.js';
export { handleCommand } from './handle-command.js';
export { type CommandMetadata, type CommandOutcome } from './command-outcome.js';
export { type CommandDeps } from './write-pipeline.js';
export {
  BATCH_DEFAULTS,
  createConferenceWriters,
  isOverloaded,
  type BatchOptions,
  type ConferenceWriters,
} from './conference-writer.js';
export { createGroupCommit, GROUP_COMMIT_DEFAULTS, takeGroup, type GroupCommitOptions } from './group-commit.js';
export {
  catchUp,
  loadSeatAvailability,
  loadSeatAvailabilityAsOf,
  toNewEvent,
  type StreamDeps,
} from './seat-availability-stream.js';
export { toSeatAvailabilityEvent } from '../seat-availability/index.js';

export type SeatAvailabilityHandlers = ReturnType<typeof createCommandHandlers>;

/** How a command is carried out: directly (`handleCommand`) or through a conference's writer. */
export type HandleCommand = (command: SeatAvailabilityCommand, metadata: CommandMetadata) => Promise<CommandOutcome>;

/** The three commands of the event-sourced write path, stamped with the clock's time. */
export const createCommandHandlers = ({ clock, handle }: { clock: () => Date; handle: HandleCommand }) => {
  const now = () => clock().toISOString();
  return {
    createConference: (
      input: { conferenceId: string; name: string; seatTypes: SeatTypeCapacity[] },
      metadata: CommandMetadata = {},
    ): Promise<CommandOutcome> => handle({ type: 'CreateConference', ...input, now: now() }, metadata),

    reserveSeats: (
      input: { conferenceId: string; reservationId: string; seats: SeatQuantity[] },
      metadata: CommandMetadata = {},
    ): Promise<CommandOutcome> => handle({ type: 'ReserveSeats', ...input, now: now() }, metadata),

    cancelReservation: (
      input: { conferenceId: string; reservationId: string },
      metadata: CommandMetadata = {},
    ): Promise<CommandOutcome> => handle({ type: 'CancelReservation', ...input, now: now() }, metadata),
  };
};
