import type { SeatAvailabilityCommand } from '../seat-availability/index.js';
import { BusyError } from './busy-error.js';
import { settle, type CommandMetadata, type CommandOutcome, type Pending } from './command-outcome.js';
import { createGroupCommit, type GroupCommitOptions } from './group-commit.js';
import { RecentReservations } from './recent-reservations.js';
import { processBatch, type CommandDeps, type ConferenceCache, type PipelineDeps } from './write-pipeline.js';

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
  afterAppend?: PipelineDeps['afterAppend'];
};

/** A conference's writer: its queue, and what it keeps of the conference between batches. */
type Writer = ConferenceCache & {
  queue: (Pending & { queuedAt: number })[];
  running: boolean;
  lastUsed: number;
};

/** The writers of one process, and what they write with. */
type Writers = { all: Map<string, Writer>; pipeline: PipelineDeps; options: BatchOptions };

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

/** Drops the idle writers unused for `idleEvictMs`, and the least recently used while more than `maxCached` are kept. */
const evictIdle = ({ all, options }: Writers) => {
  const now = Date.now();
  const idle = [...all]
    .filter(([, writer]) => !writer.running && writer.queue.length === 0)
    .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
  for (const [conferenceId, writer] of idle) {
    if (now - writer.lastUsed > options.idleEvictMs || all.size > options.maxCached) all.delete(conferenceId);
  }
};

/** Writes a conference's waiting commands, up to `maxBatch` at a time, until none wait. */
const drain = async (writers: Writers, conferenceId: string, writer: Writer) => {
  try {
    while (writer.queue.length > 0) {
      const batch = writer.queue.splice(0, writers.options.maxBatch);
      writers.pipeline.metrics.batchSize.observe(batch.length);
      await processBatch(writers.pipeline, conferenceId, writer, batch);
    }
  } finally {
    writer.running = false;
    writer.lastUsed = Date.now();
    if (writers.all.size > writers.options.maxCached) evictIdle(writers);
  }
};

const writerOf = ({ all, options }: Writers, conferenceId: string): Writer => {
  let writer = all.get(conferenceId);
  if (!writer) {
    writer = {
      state: undefined,
      reservations: new RecentReservations(options.reservationsCached),
      queue: [],
      running: false,
      lastUsed: Date.now(),
    };
    all.set(conferenceId, writer);
  }
  return writer;
};

/** Queues a command for its conference's writer, unless the conference is overloaded (busy at once). */
const enqueue = (writers: Writers, command: SeatAvailabilityCommand, metadata: CommandMetadata) => {
  const { metrics } = writers.pipeline;
  const writer = writerOf(writers, command.conferenceId);
  const queuedAt = performance.now();
  return new Promise<CommandOutcome>((resolve, reject) => {
    // An expiry gives seats back and the expirer bounds how many it sends: it is never refused, so
    // a surge past capacity cannot keep abandoned holds off sale.
    if (command.type !== 'ExpireHold' && isOverloaded(writer.queue, queuedAt, writers.options)) {
      metrics.queueFull.inc();
      settle(metrics, { command, resolve, reject, stopTimer: () => {} }, { error: new BusyError(1) });
      return;
    }
    const stopTimer = metrics.commandDuration.startTimer({ command: command.type });
    writer.queue.push({ command, metadata, resolve, reject, stopTimer, queuedAt });
    if (writer.running) return;
    // Start on the next microtask, so commands arriving in the same turn share the first batch.
    writer.running = true;
    queueMicrotask(() => void drain(writers, command.conferenceId, writer));
  });
};

/**
 * The hot-aggregate write path: one writer per conference inside this process. Commands for a
 * conference queue up; its writer takes every waiting command (up to `maxBatch`) and hands them
 * to the write pipeline as one batch (write-pipeline.ts), which decides them one after another
 * against the cached seat counts, appends all their events in ONE append at ONE expected
 * version, and only then answers each caller with its own outcome. Conferences are decided in
 * parallel, and the batches of many conferences that are ready at the same moment are appended
 * together in one statement (group commit, see group-commit.ts), each with its own expected
 * version and its own outcome.
 */
export const createConferenceWriters = (deps: WriterDeps) => {
  const { batch: options, metrics } = deps;
  const groupCommit = createGroupCommit((appends) => deps.eventStore.appendStreams(appends), deps.groupCommit, metrics);
  const writers: Writers = {
    all: new Map(),
    pipeline: { ...deps, append: (append) => groupCommit.append(append) },
    options,
  };
  const sweeper = setInterval(() => evictIdle(writers), Math.max(1000, options.idleEvictMs / 2));
  sweeper.unref();
  return {
    /** Queues a command for its conference's writer; resolves once it is decided and, if accepted, committed. */
    handle: (command: SeatAvailabilityCommand, metadata: CommandMetadata): Promise<CommandOutcome> =>
      enqueue(writers, command, metadata),

    /**
     * Forgets every cached state that no batch is using: after the database was lost, what they
     * hold is unknown. A batch in flight forgets its own when it fails (see processBatch).
     */
    forget: () => {
      for (const [conferenceId, writer] of writers.all) {
        if (!writer.running && writer.queue.length === 0) writers.all.delete(conferenceId);
      }
    },

    /** Ends the sweeper of idle conferences (process stop). */
    close: () => clearInterval(sweeper),
  };
};

export type ConferenceWriters = ReturnType<typeof createConferenceWriters>;
