import { createApp } from './app.js';
import {
  BATCH_DEFAULTS,
  createCommandHandlers,
  createConferenceWriters,
  GROUP_COMMIT_DEFAULTS,
  handleCommand,
  type BatchOptions,
  type GroupCommitOptions,
  type RetryPolicy,
} from './command-handlers/index.js';
import type { SeatAvailabilityEvent } from './seat-availability/index.js';
import { crudAtomicBookings } from './crud-baseline/crud-atomic-bookings.js';
import { crudBookings, type CrudOptions } from './crud-baseline/crud-bookings.js';
import { eventSourcedBookings } from './event-sourced-bookings.js';
import { createProjectors, createReadModel, createViewsChanged } from './projections/index.js';
import type { Sql } from './database/connect.js';
import { watchDatabase } from './database/database-health.js';
import { createEventStore } from './event-store/event-store.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createSnapshots, type SnapshotOptions } from './snapshots/index.js';
import { primeHotPath, readOnly, rehearseReservation, warmUp } from './warm-up.js';

export type ServiceOptions = {
  snapshotInterval: number;
  /** The write path of /conferences; both are always served under /batched and /direct. */
  writePath?: 'batched' | 'direct';
  batch?: BatchOptions;
  groupCommit?: GroupCommitOptions;
  projector?: { batchSize: number; seatsBatchSize?: number; pollIntervalMs: number };
  retry: RetryPolicy;
  bodyLimitBytes: number;
  log: Logger;
  clock?: () => Date;
  /** For tests: replace how snapshots are written (e.g. to make them fail). */
  writeSnapshot?: SnapshotOptions['write'];
  /** For tests: options of the CRUD baseline (e.g. its deliberately unsafe variant). */
  crud?: CrudOptions;
  /** For tests: runs after a batch's append commits, before its callers are answered. */
  afterBatchAppend?: (events: SeatAvailabilityEvent[]) => Promise<void>;
  /** For tests: retry without waiting. */
  sleep?: (ms: number) => Promise<void>;
};

export type Service = ReturnType<typeof createService>;

/**
 * The composition root: everything the service is made of, wired on one connection pool. The
 * projector is built but not started: the process (main.ts) or the test decides.
 */
export const createService = (sql: Sql, options: ServiceOptions) => {
  const { log, clock = () => new Date() } = options;
  const viewsChanged = createViewsChanged();
  // Aborted by closeLiveStreams(): open event streams would otherwise keep the server from closing.
  const liveStreams = new AbortController();
  const projector = createProjectors({
    sql,
    log,
    batchSize: options.projector?.batchSize ?? 500,
    seatsBatchSize: options.projector?.seatsBatchSize ?? 5000,
    pollIntervalMs: options.projector?.pollIntervalMs ?? 1000,
    onApplied: (projection, count) => metrics.projectedEvents.inc({ projection }, count),
    // Live readers show the remaining seats, so they follow that projection alone.
    viewsChanged,
  });
  const metrics = createMetrics(() => projector.lag());
  const eventStore = createEventStore(sql);
  const snapshots = createSnapshots(sql, {
    interval: options.snapshotInterval,
    log,
    onWrite: (outcome) => metrics.snapshots.inc({ outcome }),
    ...(options.writeSnapshot ? { write: options.writeSnapshot } : {}),
  });
  const commandDeps = {
    eventStore,
    snapshots,
    metrics,
    retry: options.retry,
    ...(options.sleep ? { sleep: options.sleep } : {}),
  };
  const writers = createConferenceWriters({
    ...commandDeps,
    batch: options.batch ?? BATCH_DEFAULTS,
    groupCommit: options.groupCommit ?? GROUP_COMMIT_DEFAULTS,
    ...(options.afterBatchAppend ? { afterAppend: options.afterBatchAppend } : {}),
  });
  const directHandlers = createCommandHandlers({
    clock,
    handle: (command, metadata) => handleCommand(commandDeps, command, metadata),
  });
  const batchedHandlers = createCommandHandlers({
    clock,
    handle: (command, metadata) => writers.handle(command, metadata),
  });
  const handlers = options.writePath === 'direct' ? directHandlers : batchedHandlers;
  const health = watchDatabase({
    probe: () => withTimeout(sql`select 1`, PROBE_TIMEOUT_MS),
    log,
    onDown: () => writers.forget(),
  });
  const readModel = createReadModel(sql);
  const esBookings = (commands: typeof handlers) =>
    eventSourcedBookings(commands, { eventStore, snapshots }, readModel);
  const bookings = esBookings(handlers);
  const crud = crudBookings(sql, { clock, ...options.crud });
  const crudAtomic = crudAtomicBookings(sql, { clock });
  const app = createApp({
    designs: {
      '/conferences': bookings,
      '/batched/conferences': esBookings(batchedHandlers),
      '/direct/conferences': esBookings(directHandlers),
      '/crud/conferences': crud,
      '/crud-atomic/conferences': crudAtomic,
    },
    eventStore,
    live: { readModel, viewsChanged, closing: liveStreams.signal },
    sql,
    health,
    metrics,
    projectionLag: () => projector.lag(),
    log,
    bodyLimitBytes: options.bodyLimitBytes,
  });
  return {
    app,
    handlers,
    directHandlers,
    batchedHandlers,
    writers,
    bookings,
    crudBookings: crud,
    crudAtomicBookings: crudAtomic,
    eventStore,
    snapshots,
    metrics,
    projector,
    readModel,
    viewsChanged,
    health,
    /**
     * For before the service says it is ready: opens `connections` of the pool and primes the hot
     * path's statements on each, then rehearses a reservation so its code is compiled. Without
     * it the first reservation after a restart took about 60 ms, the next ones 5 ms.
     */
    warmUp: async (connections: number) => {
      await warmUp(sql, connections, (connection) => primeHotPath(connection, log));
      // In a silent service of its own, so the rehearsal leaves nothing in this one's log, metrics
      // or caches; in a read-only transaction, so nothing in the database, whatever it meets.
      await readOnly(sql, async (connection) => {
        const rehearsal = createService(connection, { ...options, log: log.child({}, { level: 'silent' }) });
        try {
          await rehearseReservation(rehearsal.app);
        } finally {
          rehearsal.close();
        }
      });
      // A Hono router builds its matcher on its first request: this app's, not the rehearsal's.
      app.router.match('POST', '/conferences/-/reservations');
    },
    /** Ends every open GET /conferences/:id/stream, so the HTTP server can close. */
    closeLiveStreams: () => liveStreams.abort(),
    /** Stops the service's own timers (database probe, cache sweeper); the pool is the caller's. */
    close: () => {
      health.stop();
      writers.close();
    },
  };
};

/** A probe that waits longer than this counts as a failure: an unreachable host never refuses. */
const PROBE_TIMEOUT_MS = 2000;

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};
