import type { Metrics } from '../metrics.js';
import type { Rejection, Reservation, SeatAvailabilityCommand } from '../seat-availability/index.js';
import type { VersionedState } from '../snapshots/index.js';
import { BusyError } from './busy-error.js';

/**
 * What a command did: `appended` events (0 when it repeated an already applied command), with
 * the state and the command's reservation after them; or the rejection that left the stream unchanged.
 */
export type CommandOutcome =
  | ({ kind: 'accepted'; appended: number; reservation: Reservation } & VersionedState)
  | { kind: 'rejected'; rejection: Rejection };

/** Metadata stored with the events a command appends. */
export type CommandMetadata = { requestId?: string };

/** A command waiting for its outcome, and how its caller is answered. */
export type Pending = {
  command: SeatAvailabilityCommand;
  metadata: CommandMetadata;
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
  /** Ends the command's seat_surge_command_duration_seconds observation. */
  stopTimer: () => void;
};

/** How a command ended: with an outcome, or with an error (busy, or the database failed). */
export type Settled = { outcome: CommandOutcome } | { error: unknown };

/** What seat_surge_commands_total counts a command as: a rejection's code, accepted, repeated, busy or error. */
const outcomeLabel = (settled: Settled): string => {
  if ('error' in settled) return settled.error instanceof BusyError ? 'busy' : 'error';
  const { outcome } = settled;
  return outcome.kind === 'rejected' ? outcome.rejection.kind : outcome.appended > 0 ? 'accepted' : 'repeated';
};

/** Answers a command's caller, counting the command under its outcome; every path answers here. */
export const settle = (
  metrics: Pick<Metrics, 'commands'>,
  pending: Omit<Pending, 'metadata'>,
  settled: Settled,
): void => {
  metrics.commands.inc({ command: pending.command.type, outcome: outcomeLabel(settled) });
  pending.stopTimer();
  if ('error' in settled) pending.reject(settled.error);
  else pending.resolve(settled.outcome);
};
