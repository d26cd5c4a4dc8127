import type { RecordedEvent } from '../event-store/event-store.js';
import { KeysExistError } from '../event-store/keys-exist-error.js';
import { VersionConflictError } from '../event-store/version-conflict-error.js';
import {
  ABSENT,
  decide,
  evolve,
  reservationIdOfCommand,
  reservationOf,
  reservationsOf,
  streamIdOf,
  type Reservation,
  type SeatAvailability,
  type SeatAvailabilityCommand,
  type SeatAvailabilityEvent,
} from '../seat-availability/index.js';
import type { VersionedState } from '../snapshots/index.js';
import { BusyError } from './busy-error.js';
import { createGroupCommit, type GroupCommitOptions } from './group-commit.js';
import { type CommandDeps, type CommandMetadata, type CommandOutcome } from './handle-command.js';
import { RecentReservations } from './recent-reservations.js';
import { backoffDelay, retryOrBusy } from './retry-policy.js';
import { catchUp, loadSeatAvailability, toNewEvent, toSeatAvailabilityEvent } from './seat-availability-stream.js';

export type BatchOptions = {
  /** Most commands decided and appended together. */
  maxBatch: number;
  /** Commands waiting per conference before callers are told to come back (back-pressure). */
  maxQueue: number;
  /**
   * A conference whose oldest waiting command has waited this long (ms) refuses new commands at
   * once with busy, until its writer catches up; 0: only `maxQueue` bounds the wait.
   */
  maxQueueWaitMs: number;
  /** A conference's cached state is dropped after this long without commands... */
  idleEvictMs: number;
  /** ...or when more conferences than this are cached (least recently used first). */
  maxCached: number;
  /** Reservations kept per cached conference (recently decided); others are looked up by id. */
  reservationsCached: number;
};

/**
 * The defaults (and BATCH_* and CACHE_* in config.ts). The wait that closes a conference to new
 * commands was measured in open-model spikes (docs/results.md, overload): at 1.9× capacity 50 ms kept the
 * slowest answer under a second (1.3-1.6 s without), and it refused under 1% at or below capacity.
 */
export const BATCH_DEFAULTS: BatchOptions = {
  maxBatch: 256,
  maxQueue: 4096,
  maxQueueWaitMs: 50,
  idleEvictMs: 60_000,
  maxCached: 10_000,
  reservationsCached: 1_000,
};

export type WriterDeps = CommandDeps & {
  batch: BatchOptions;
  /** How the batches of many conferences are appended together (see group-commit.ts). */
  groupCommit: GroupCommitOptions;
  /** Test seam: runs after a batch's append has committed and before anyone is answered. */
  afterAppend?: (events: SeatAvailabilityEvent[]) => Promise<void>;
};

type Pending = {
  command: SeatAvailabilityCommand;
  metadata: CommandMetadata;
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
  stopTimer: () => void;
  /** When it was queued (`performance.now()`). */
  queuedAt: number;
};

type Writer = {
  queue: Pending[];
  running: boolean;
  /** The seat counts at a version: the whole state, a few numbers whatever the history. */
  cached: VersionedState | undefined;
  /** What is known of recent reservations, as of `cached.version`. */
  reservations: RecentReservations;
  lastUsed: number;
};

/** What deciding a batch against a state produced; nothing is stored yet. */
type BatchDecision = {
  results: (
    | { kind: 'rejected'; rejection: Extract<CommandOutcome, { kind: 'rejected' }>['rejection'] }
    | { kind: 'accepted'; appended: number; reservation: Reservation }
  )[];
  events: { event: SeatAvailabilityEvent; metadata: CommandMetadata }[];
  working: SeatAvailability;
  /** Every reservation the batch named, as it stands after the batch. */
  reservations: Map<string, Reservation>;
};

/**
 * Decides a batch one command after another against the evolving state; `known` holds what the
 * store said of every reservation the batch names, and later commands see what earlier ones did.
 */
const decideBatch = (base: VersionedState, batch: Pending[], known: Map<string, Reservation>): BatchDecision => {
  let working = base.state;
  const reservations = new Map(known);
  const results: BatchDecision['results'] = [];
  const events: BatchDecision['events'] = [];
  for (const { command, metadata } of batch) {
    const reservationId = reservationIdOfCommand(command);
    const reservation = (reservationId !== undefined && reservations.get(reservationId)) || ABSENT;
    const decision = decide(working, command, reservation);
    if (decision.kind === 'rejected') {
      results.push(decision);
      continue;
    }
    for (const event of decision.events) {
      working = evolve(working, event);
      events.push({ event, metadata });
    }
    const after = reservationOf(decision.events, reservation);
    if (reservationId !== undefined) reservations.set(reservationId, after);
    results.push({ kind: 'accepted', appended: decision.events.length, reservation: after });
  }
  return { results, events, working, reservations };
};

/**
 * Admission: a conference takes no more commands while `maxQueue` already wait, or while the
 * oldest has waited `maxQueueWaitMs`. In a surge past what the writer can commit, the excess is
 * refused at once (a 503 costs no database work) and no command taken waits in the queue much
 * longer than that, instead of every caller queueing for seconds.
 */
export const isOverloaded = (
  queue: readonly { queuedAt: number }[],
  now: number,
  { maxQueue, maxQueueWaitMs }: Pick<BatchOptions, 'maxQueue' | 'maxQueueWaitMs'>,
): boolean => {
  if (queue.length >= maxQueue) return true;
  const oldest = queue[0];
  return maxQueueWaitMs > 0 && oldest !== undefined && now - oldest.queuedAt >= maxQueueWaitMs;
};

/** The distinct reservation ids a batch names. */
const reservationIdsOf = (batch: Pending[]): string[] => [
  ...new Set(batch.flatMap(({ command }) => reservationIdOfCommand(command) ?? [])),
];

/**
 * The hot-aggregate write path: one writer per conference inside this process. Commands for a
 * conference queue up; its writer takes every waiting command (up to `maxBatch`), decides them
 * one after another against its cached seat counts, appends all their events in ONE append at
 * ONE expected version, and only then answers each caller with its own outcome. Conferences are
 * decided in parallel, and the batches of many conferences that are ready at the same moment are
 * appended together in one statement (group commit, see group-commit.ts), each with its own
 * expected version and its own outcome.
 *
 * Every answer is decided on the stream's current version, whoever else writes it (another
 * process, the direct path): a batch that appends is checked by its expected version (and its
 * new reservation ids by the same statement); a batch that appends nothing looks up the ids it
 * does not hold with ONE query that also reads the stream's version, or else reads the version.
 * When the version moved, the writer catches up from the store and decides the batch again.
 */
export const createConferenceWriters = (deps: WriterDeps) => {
  const {
    metrics,
    retry,
    batch: options,
    sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms)),
    random = Math.random,
  } = deps;
  const writers = new Map<string, Writer>();
  const groupCommit = createGroupCommit((appends) => deps.eventStore.appendStreams(appends), deps.groupCommit, metrics);

  const evictIdle = () => {
    const now = Date.now();
    const idle = [...writers]
      .filter(([, w]) => !w.running && w.queue.length === 0)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [conferenceId, writer] of idle) {
      if (now - writer.lastUsed > options.idleEvictMs || writers.size > options.maxCached) writers.delete(conferenceId);
    }
  };
  const sweeper = setInterval(evictIdle, Math.max(1000, options.idleEvictMs / 2));
  sweeper.unref();

  /** Another writer moved the stream: bring the counts, and the reservations held, up to date. */
  const catchUpWriter = async (conferenceId: string, writer: Writer, base: VersionedState) => {
    const { caughtUp, events } = await catchUp(deps, conferenceId, base);
    for (const [id, reservation] of reservationsOf(events)) {
      if (reservation.status !== 'absent' && writer.reservations.has(id)) writer.reservations.set(id, reservation);
    }
    writer.cached = caughtUp;
  };

  /**
   * What is known of the batch's reservations at the cached version: those the writer holds, and
   * those learnt from the store while deciding this batch; `unknown` are the ids of neither.
   */
  const knownOf = (writer: Writer, batch: Pending[], learnt: Map<string, Reservation>) => {
    const known = new Map<string, Reservation>();
    const unknown: string[] = [];
    for (const id of reservationIdsOf(batch)) {
      const reservation = learnt.get(id) ?? writer.reservations.get(id);
      if (reservation) known.set(id, reservation);
      else unknown.push(id);
    }
    return { known, unknown };
  };

  /** Folds found events into what is learnt; every id asked for and not found is absent. */
  const learn = (learnt: Map<string, Reservation>, asked: string[], found: RecordedEvent[]) => {
    for (const id of asked) learnt.set(id, ABSENT);
    reservationsOf(found.map(toSeatAvailabilityEvent), learnt);
  };

  /** A stale cache or a version conflict: give up with busy after the last retry, else catch up to decide again. */
  const retryAfterCatchUp = async (conferenceId: string, writer: Writer, base: VersionedState, attempt: number) => {
    retryOrBusy(attempt, retry, metrics);
    await catchUpWriter(conferenceId, writer, base);
  };

  /**
   * Decides a batch and makes its outcome true in the store, at the stream's current version.
   * Reservation ids the writer knows nothing of are decided as new: the append then carries the
   * condition that they have no events yet (one statement, one round trip), and a batch that
   * appends nothing looks them up, reading the stream's version with them. Whatever the store
   * reveals (they exist after all, or the version moved) the batch is decided again.
   */
  const processBatch = async (conferenceId: string, writer: Writer, batch: Pending[]) => {
    const streamId = streamIdOf(conferenceId);
    metrics.batchSize.observe(batch.length);
    const learnt = new Map<string, Reservation>();
    // Whether a read since the cache was last trusted has shown it current: a fresh load, a
    // catch-up, or a lookup that returned the cached version.
    let verified = writer.cached === undefined;
    for (let attempt = 0; ;) {
      const base = writer.cached ?? (await loadSeatAvailability(deps, conferenceId));
      writer.cached = base;
      const { known, unknown } = knownOf(writer, batch, learnt);
      const { results, events, working, reservations } = decideBatch(base, batch, known);
      const open = base.state.status === 'open';
      let committed: VersionedState = base;
      if (events.length > 0) {
        try {
          const appended = await groupCommit.append({
            streamId,
            expectedVersion: base.version,
            events: events.map(({ event, metadata }) => toNewEvent(event, metadata)),
            newKeys: open ? unknown : [],
          });
          await deps.afterAppend?.(events.map((e) => e.event));
          committed = { state: working, version: appended.version, position: appended.position };
          writer.cached = committed;
        } catch (error) {
          if (error instanceof KeysExistError) {
            // Some ids decided as new have events after all; the stream has not moved: decide again.
            learn(learnt, unknown, error.events);
            continue;
          }
          if (!(error instanceof VersionConflictError)) throw error;
          // Another process appended: bring the cache up to date from the store and decide again.
          metrics.versionConflicts.inc();
          learnt.clear();
          await retryAfterCatchUp(conferenceId, writer, base, attempt);
          verified = true;
          await sleep(backoffDelay(attempt++, retry, random));
          continue;
        }
      } else if (open && unknown.length > 0) {
        // Nothing to append: what the unknown ids name, and the stream's version, in one read.
        const { version, events: found } = await deps.eventStore.readByKeys(streamId, unknown);
        if (version !== base.version) {
          metrics.staleCaches.inc();
          learnt.clear();
          await retryAfterCatchUp(conferenceId, writer, base, attempt++);
          verified = true;
          continue;
        }
        verified = true;
        learn(learnt, unknown, found);
        if (found.length > 0) continue;
      } else if (!verified) {
        // Nothing to append and nothing to look up, so no statement has checked the cache: another
        // process, or the direct path, may have moved the stream. One read per batch confirms it.
        verified = true;
        if ((await deps.eventStore.streamVersion(streamId)) !== base.version) {
          metrics.staleCaches.inc();
          learnt.clear();
          await retryAfterCatchUp(conferenceId, writer, base, attempt++);
          continue;
        }
      }
      for (const [id, reservation] of reservations) {
        if (reservation.status !== 'absent') writer.reservations.set(id, reservation);
      }
      batch.forEach((pending, i) => {
        const result = results[i]!;
        const label =
          result.kind === 'rejected' ? result.rejection.kind : result.appended > 0 ? 'accepted' : 'repeated';
        metrics.commands.inc({ command: pending.command.type, outcome: label });
        pending.stopTimer();
        pending.resolve(result.kind === 'rejected' ? result : { ...result, ...committed });
      });
      if (events.length > 0) deps.snapshots.afterAppend(streamId, base.version, committed);
      return;
    }
  };

  const drain = async (conferenceId: string, writer: Writer) => {
    try {
      while (writer.queue.length > 0) {
        const batch = writer.queue.splice(0, options.maxBatch);
        try {
          await processBatch(conferenceId, writer, batch);
        } catch (error) {
          // Unknown state (e.g. the database failed mid-append): forget the cache, reload next time.
          writer.cached = undefined;
          writer.reservations = new RecentReservations(options.reservationsCached);
          for (const pending of batch) {
            metrics.commands.inc({
              command: pending.command.type,
              outcome: error instanceof BusyError ? 'busy' : 'error',
            });
            pending.stopTimer();
            pending.reject(error);
          }
        }
      }
    } finally {
      writer.running = false;
      writer.lastUsed = Date.now();
      if (writers.size > options.maxCached) evictIdle();
    }
  };

  return {
    /** Queues a command for its conference's writer; resolves once it is decided and, if accepted, committed. */
    handle(command: SeatAvailabilityCommand, metadata: CommandMetadata): Promise<CommandOutcome> {
      let writer = writers.get(command.conferenceId);
      if (!writer) {
        writer = {
          queue: [],
          running: false,
          cached: undefined,
          reservations: new RecentReservations(options.reservationsCached),
          lastUsed: Date.now(),
        };
        writers.set(command.conferenceId, writer);
      }
      const queuedAt = performance.now();
      if (isOverloaded(writer.queue, queuedAt, options)) {
        metrics.commands.inc({ command: command.type, outcome: 'busy' });
        metrics.queueFull.inc();
        return Promise.reject(new BusyError(1));
      }
      const stopTimer = metrics.commandDuration.startTimer({ command: command.type });
      const queued = new Promise<CommandOutcome>((resolve, reject) =>
        writer.queue.push({ command, metadata, resolve, reject, stopTimer, queuedAt }),
      );
      if (!writer.running) {
        // Start on the next microtask, so commands arriving in the same turn share the first batch.
        writer.running = true;
        const started = writer;
        queueMicrotask(() => void drain(command.conferenceId, started));
      }
      return queued;
    },

    /**
     * Forgets every cached state that no batch is using: after the database was lost, what they
     * hold is unknown. A batch in flight forgets its own when it fails (see drain).
     */
    forget: () => {
      for (const [conferenceId, writer] of writers) {
        if (!writer.running && writer.queue.length === 0) writers.delete(conferenceId);
      }
    },

    /** Ends the sweeper of idle conferences (process stop). */
    close: () => clearInterval(sweeper),
  };
};

export type ConferenceWriters = ReturnType<typeof createConferenceWriters>;
