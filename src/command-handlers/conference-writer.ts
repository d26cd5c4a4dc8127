import { streamIdOf } from '../seat-availability/index.js';
import {
  decide,
  evolve,
  type Reservation,
  type SeatAvailability,
  type SeatAvailabilityCommand,
  type SeatAvailabilityEvent,
} from '../seat-availability/index.js';
import { VersionConflictError } from '../event-store/version-conflict-error.js';
import type { VersionedState } from '../snapshots/index.js';
import { BusyError } from './busy-error.js';
import type { CommandDeps, CommandMetadata, CommandOutcome } from './handle-command.js';
import { LayeredMap } from './layered-map.js';
import { backoffDelay, retryAfterSeconds } from './retry-policy.js';
import { catchUp, loadSeatAvailability } from './seat-availability-stream.js';

export type BatchOptions = {
  /** Most commands decided and appended together. */
  maxBatch: number;
  /** Commands waiting per conference before callers are told to come back (back-pressure). */
  maxQueue: number;
  /** A conference's cached state is dropped after this long without commands... */
  idleEvictMs: number;
  /** ...or when more conferences than this are cached (least recently used first). */
  maxCached: number;
};

export type WriterDeps = CommandDeps & {
  batch: BatchOptions;
  /** Test seam: runs after a batch's append has committed and before anyone is answered. */
  afterAppend?: (events: SeatAvailabilityEvent[]) => Promise<void>;
};

type Pending = {
  command: SeatAvailabilityCommand;
  metadata: CommandMetadata;
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
  stopTimer: () => void;
};

type Writer = {
  queue: Pending[];
  running: boolean;
  cached: VersionedState | undefined;
  lastUsed: number;
  /** While a snapshot of the cached state is being written, see `takeSnapshotIfDue`. */
  setAside?: SetAside;
};

/** The reservations a snapshot is reading, and the layer over them the writer writes to meanwhile. */
type SetAside = { reservations: Map<string, Reservation>; layer: LayeredMap<string, Reservation>; written: boolean };

/** What deciding a batch against a state produced; nothing is stored yet. */
type BatchDecision = {
  results: (
    | { kind: 'rejected'; rejection: Extract<CommandOutcome, { kind: 'rejected' }>['rejection'] }
    | { kind: 'accepted'; appended: number }
  )[];
  events: { event: SeatAvailabilityEvent; metadata: CommandMetadata }[];
  working: SeatAvailability;
  layer: LayeredMap<string, Reservation> | undefined;
};

/**
 * Decides a batch one command after another against the evolving state, without touching the
 * cached state: reservations go into a layer over the cached map.
 */
const decideBatch = (base: VersionedState, batch: Pending[]): BatchDecision => {
  const layer = base.state.status === 'open' ? new LayeredMap(base.state.reservations) : undefined;
  let working: SeatAvailability =
    base.state.status === 'open' && layer ? { ...base.state, reservations: layer } : base.state;
  const results: BatchDecision['results'] = [];
  const events: BatchDecision['events'] = [];
  for (const { command, metadata } of batch) {
    const decision = decide(working, command);
    if (decision.kind === 'rejected') {
      results.push(decision);
      continue;
    }
    for (const event of decision.events) {
      working = evolve(working, event);
      events.push({ event, metadata });
    }
    results.push({ kind: 'accepted', appended: decision.events.length });
  }
  return { results, events, working, layer };
};

/**
 * The hot-aggregate write path: one writer per conference inside this process. Commands for a
 * conference queue up; its writer takes every waiting command (up to `maxBatch`), decides them
 * one after another against its cached state, appends all their events in ONE append at ONE
 * expected version, and only then answers each caller with its own outcome. Conferences are
 * written in parallel. Optimistic concurrency still guards the stream against other processes:
 * on a version conflict the writer catches up from the store and decides the batch again.
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

  const processBatch = async (conferenceId: string, writer: Writer, batch: Pending[]) => {
    const streamId = streamIdOf(conferenceId);
    metrics.batchSize.observe(batch.length);
    for (let attempt = 0; ; attempt++) {
      const base = writer.cached ?? (await loadSeatAvailability(deps, conferenceId));
      writer.cached = base;
      const { results, events, working, layer } = decideBatch(base, batch);
      let committed: VersionedState = base;
      if (events.length > 0) {
        try {
          const appended = await deps.eventStore.append(
            streamId,
            base.version,
            events.map(({ event, metadata }) => ({ type: event.type, data: event.data, metadata })),
          );
          await deps.afterAppend?.(events.map((e) => e.event));
          if (base.state.status === 'open' && layer) layer.commitInto(base.state.reservations);
          const state =
            working.status === 'open' && base.state.status === 'open'
              ? { ...working, reservations: base.state.reservations }
              : working;
          committed = { state, version: appended.version, position: appended.position };
          writer.cached = committed;
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
          // Another process appended: bring the cache up to date from the store and decide again.
          metrics.versionConflicts.inc();
          writer.cached = await catchUp(deps, conferenceId, base);
          if (attempt >= retry.maxRetries) {
            metrics.retriesExhausted.inc();
            throw new BusyError(retryAfterSeconds(retry));
          }
          metrics.retries.inc();
          await sleep(backoffDelay(attempt, retry, random));
          continue;
        }
      }
      batch.forEach((pending, i) => {
        const result = results[i]!;
        const label =
          result.kind === 'rejected' ? result.rejection.kind : result.appended > 0 ? 'accepted' : 'repeated';
        metrics.commands.inc({ command: pending.command.type, outcome: label });
        pending.stopTimer();
        pending.resolve(result.kind === 'rejected' ? result : { ...result, ...committed });
      });
      if (events.length > 0) takeSnapshotIfDue(streamId, writer, base.version);
      return;
    }
  };

  /**
   * After a batch's answers: starts a snapshot of the cached state when one is due. The snapshot
   * is serialised over later turns of the event loop (a hot conference holds hundreds of
   * thousands of reservations), so until it is written the cached reservations are set aside,
   * unchanged, and later batches write to a layer over them; the layer is folded back in once
   * the snapshot is written. Setting aside costs nothing, unlike copying the reservations.
   */
  const takeSnapshotIfDue = (streamId: string, writer: Writer, versionBefore: number) => {
    restoreSetAside(writer);
    const cached = writer.cached;
    if (!cached) return;
    const writing = deps.snapshots.afterAppend(streamId, versionBefore, cached);
    if (!writing || cached.state.status !== 'open') return;
    const setAside: SetAside = {
      reservations: cached.state.reservations,
      layer: new LayeredMap(cached.state.reservations),
      written: false,
    };
    writer.setAside = setAside;
    writer.cached = { ...cached, state: { ...cached.state, reservations: setAside.layer } };
    void writing.then(() => {
      setAside.written = true;
    });
  };

  /** Folds the layer back into the set-aside reservations once their snapshot is written; between batches only. */
  const restoreSetAside = (writer: Writer) => {
    const setAside = writer.setAside;
    if (!setAside?.written) return;
    writer.setAside = undefined;
    const cached = writer.cached;
    // A cache dropped meanwhile (after a failed batch) no longer reads through the layer.
    if (cached?.state.status !== 'open' || cached.state.reservations !== setAside.layer) return;
    setAside.layer.commitInto(setAside.reservations);
    writer.cached = { ...cached, state: { ...cached.state, reservations: setAside.reservations } };
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
        writer = { queue: [], running: false, cached: undefined, lastUsed: Date.now() };
        writers.set(command.conferenceId, writer);
      }
      if (writer.queue.length >= options.maxQueue) {
        metrics.commands.inc({ command: command.type, outcome: 'busy' });
        metrics.queueFull.inc();
        return Promise.reject(new BusyError(1));
      }
      const stopTimer = metrics.commandDuration.startTimer({ command: command.type });
      const queued = new Promise<CommandOutcome>((resolve, reject) =>
        writer.queue.push({ command, metadata, resolve, reject, stopTimer }),
      );
      if (!writer.running) {
        // Start on the next microtask, so commands arriving in the same turn share the first batch.
        writer.running = true;
        const started = writer;
        queueMicrotask(() => void drain(command.conferenceId, started));
      }
      return queued;
    },

    /** Conferences whose state is cached. */
    cachedConferences: () => writers.size,

    close: () => clearInterval(sweeper),
  };
};

export type ConferenceWriters = ReturnType<typeof createConferenceWriters>;

export { streamIdOf };
