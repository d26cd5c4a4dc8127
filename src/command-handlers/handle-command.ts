import { VersionConflictError } from '../event-store/version-conflict-error.js';
import type { Metrics } from '../metrics.js';
import {
  ABSENT,
  decide,
  reservationIdOfCommand,
  reservationOf,
  type Rejection,
  type Reservation,
  type SeatAvailabilityCommand,
} from '../seat-availability/index.js';
import type { VersionedState } from '../snapshots/index.js';
import { BusyError } from './busy-error.js';
import { backoffDelay, retryOrBusy, type RetryPolicy } from './retry-policy.js';
import {
  appendSeatAvailabilityEvents,
  findReservation,
  loadSeatAvailability,
  type StreamDeps,
} from './seat-availability-stream.js';

export type CommandDeps = StreamDeps & {
  metrics: Metrics;
  retry: RetryPolicy;
  /** Injected so tests can retry without waiting. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
};

/**
 * What a command did: `appended` events (0 when it repeated an already applied command), with
 * the state and the command's reservation after them; or the rejection that left the stream unchanged.
 */
export type CommandOutcome =
  | ({ kind: 'accepted'; appended: number; reservation: Reservation } & VersionedState)
  | { kind: 'rejected'; rejection: Rejection };

/** Metadata stored with the events a command appends. */
export type CommandMetadata = { requestId?: string };

const defaultSleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Load, decide, append with the expected version. On a version conflict another writer got
 * there first, so the conference is loaded and the command decided again, up to
 * `retry.maxRetries` times with jittered backoff; then the caller gets a `BusyError`, never a
 * decision taken on stale state.
 */
export const handleCommand = async (
  deps: CommandDeps,
  command: SeatAvailabilityCommand,
  metadata: CommandMetadata,
): Promise<CommandOutcome> => {
  const { metrics, retry, sleep = defaultSleep, random = Math.random } = deps;
  const stopTimer = metrics.commandDuration.startTimer({ command: command.type });
  const outcome = (label: string) => metrics.commands.inc({ command: command.type, outcome: label });
  try {
    for (let attempt = 0; ; attempt++) {
      const loaded = await loadSeatAvailability(deps, command.conferenceId);
      const reservationId = reservationIdOfCommand(command);
      const reservation =
        reservationId !== undefined && loaded.state.status === 'open'
          ? await findReservation(deps, command.conferenceId, reservationId, loaded.version)
          : ABSENT;
      const decision = decide(loaded.state, command, reservation);
      if (decision.kind === 'rejected') {
        outcome(decision.rejection.kind);
        return decision;
      }
      if (decision.events.length === 0) {
        outcome('repeated');
        return { kind: 'accepted', appended: 0, reservation, ...loaded };
      }
      try {
        const appended = await appendSeatAvailabilityEvents(
          deps,
          command.conferenceId,
          loaded,
          decision.events,
          metadata,
        );
        outcome('accepted');
        const after = reservationOf(decision.events, reservation);
        return { kind: 'accepted', appended: decision.events.length, reservation: after, ...appended };
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        metrics.versionConflicts.inc();
        retryOrBusy(attempt, retry, metrics);
        await sleep(backoffDelay(attempt, retry, random));
      }
    }
  } catch (error) {
    outcome(error instanceof BusyError ? 'busy' : 'error');
    throw error;
  } finally {
    stopTimer();
  }
};
