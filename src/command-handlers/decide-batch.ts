import {
  ABSENT,
  decide,
  evolve,
  reservationIdOfCommand,
  reservationOf,
  type Rejection,
  type Reservation,
  type SeatAvailability,
  type SeatAvailabilityCommand,
  type SeatAvailabilityEvent,
} from '../seat-availability/index.js';
import type { CommandMetadata } from './command-outcome.js';

/** What deciding a batch against a state produced; nothing is stored yet. */
export type BatchDecision = {
  /** Each command's own result, in the batch's order. */
  results: (
    { kind: 'rejected'; rejection: Rejection } | { kind: 'accepted'; appended: number; reservation: Reservation }
  )[];
  /** The events to append, each with the metadata of the command that decided it. */
  events: { event: SeatAvailabilityEvent; metadata: CommandMetadata }[];
  /** The state after every event of the batch. */
  state: SeatAvailability;
  /** Every reservation the batch named, as it stands after the batch. */
  reservations: Map<string, Reservation>;
};

/**
 * Decides a batch one command after another against the evolving state: later commands see what
 * earlier ones did. `known` is what is known of the reservations the batch names; an id it does
 * not hold is decided as absent (new). Pure, like `decide`.
 */
export const decideBatch = (
  state: SeatAvailability,
  batch: readonly { command: SeatAvailabilityCommand; metadata: CommandMetadata }[],
  known: ReadonlyMap<string, Reservation>,
): BatchDecision => {
  const decided: BatchDecision = { results: [], events: [], state, reservations: new Map(known) };
  for (const { command, metadata } of batch) {
    const reservationId = reservationIdOfCommand(command);
    const reservation = (reservationId !== undefined && decided.reservations.get(reservationId)) || ABSENT;
    const decision = decide(decided.state, command, reservation);
    if (decision.kind === 'rejected') {
      decided.results.push(decision);
      continue;
    }
    for (const event of decision.events) {
      decided.state = evolve(decided.state, event);
      decided.events.push({ event, metadata });
    }
    const after = reservationOf(decision.events, reservation);
    if (reservationId !== undefined) decided.reservations.set(reservationId, after);
    decided.results.push({ kind: 'accepted', appended: decision.events.length, reservation: after });
  }
  return decided;
};
