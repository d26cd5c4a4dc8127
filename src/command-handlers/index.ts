import type { SeatAvailabilityCommand } from '../seat-availability/index.js';
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

/** A command's input: what a caller says, without its type and time. */
type Input<Type extends SeatAvailabilityCommand['type']> = Omit<
  Extract<SeatAvailabilityCommand, { type: Type }>,
  'type' | 'now'
>;

/** The commands of the event-sourced write path, stamped with the clock's time. */
export const createCommandHandlers = ({ clock, handle }: { clock: () => Date; handle: HandleCommand }) => {
  // Commands read in the same turn (a burst of requests) mostly share a millisecond (86% of them in
  // a 64-connection surge): they share its ISO text, as formatting a Date was a visible cost per command.
  let lastTime = Number.NaN;
  let lastNow = '';
  const now = () => {
    const date = clock();
    const time = date.getTime();
    if (time !== lastTime) {
      lastNow = date.toISOString();
      lastTime = time;
    }
    return lastNow;
  };
  const command =
    <Type extends SeatAvailabilityCommand['type']>(type: Type) =>
    (input: Input<Type>, metadata: CommandMetadata = {}): Promise<CommandOutcome> =>
      handle({ type, ...input, now: now() } as Extract<SeatAvailabilityCommand, { type: Type }>, metadata);
  return {
    createConference: command('CreateConference'),
    reserveSeats: command('ReserveSeats'),
    cancelReservation: command('CancelReservation'),
    holdSeats: command('HoldSeats'),
    confirmReservation: command('ConfirmReservation'),
    releaseHold: command('ReleaseHold'),
    /** Sent by the hold expirer when a hold is due; an early or stale one changes nothing. */
    expireHold: command('ExpireHold'),
  };
};
