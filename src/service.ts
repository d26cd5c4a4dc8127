import { createApp, type OperatorAccess } from './app.js';
import { createAttendeeKeys, createAttendees } from './attendees/index.js';
import type { Config } from './config.js';
import { crudAtomicBookings } from './crud-baseline/crud-atomic-bookings.js';
import { crudBookings, type CrudOptions } from './crud-baseline/crud-bookings.js';
import { HoldSweeper } from './crud-baseline/hold-sweeper.js';
import type { Sql } from './database/connect.js';
import { probeDatabase, watchDatabase } from './database/database-health.js';
import { eventSourcedBookings } from './event-sourced-bookings.js';
import type { Logger } from './logger.js';
import { HoldExpirer } from './hold-expiry/hold-expirer.js';
import { createMetrics } from './metrics.js';
import type { LiveTiming } from './http/live-routes.js';
import {
  createProjectors,
  createReadModel,
  createViewsChanged,
  listenForChangedViews,
  projectionLags,
} from './projections/index.js';
import type { SeatAvailabilityEvent } from './seat-availability/index.js';
import type { SnapshotOptions } from './snapshots/index.js';
import { primeHotPath, readOnly, rehearseReservation, warmUp } from './warm-up.js';
import { createWriteSide } from './write-side.js';

/** What the service is built from: the validated configuration's settings (config.ts has every default). */
export type ServiceSettings = Pick<
  Config,
  | 'snapshotInterval'
  | 'snapshotKeep'
  | 'writePath'
  | 'batch'
  | 'groupCommit'
  | 'projector'
  | 'retry'
  | 'bodyLimitBytes'
  | 'holds'
>;

/** Seams for tests; the service runs with none of them. */
export type ServiceHooks = {
  clock?: () => Date;
  /** Replaces how snapshots are written (e.g. to make them fail). */
  writeSnapshot?: SnapshotOptions['write'];
  /** Options of the CRUD baseline (e.g. its deliberately unsafe variant). */
  crud?: CrudOptions;
  /** Runs after a batch's append commits, before its callers are answered. */
  afterBatchAppend?: (events: SeatAvailabilityEvent[]) => Promise<void>;
  /** Retries without waiting. */
  sleep?: (ms: number) => Promise<void>;
  /** How often live readers re-read the view without a signal, and send heartbeats. */
  liveTiming?: Partial<LiveTiming>;
};

export type ServiceOptions = ServiceSettings &
  ServiceHooks & {
    log: Logger;
    /** The operator's token (ADMIN_TOKEN or its file, resolved by the process), and whether the demo page gets it. */
    operator: OperatorAccess;
  };

export type Service = ReturnType<typeof createService>;

/** A probe that waits longer than this counts as a failure: an unreachable host never refuses. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * The composition root: everything the service is made of, wired on one connection pool. The
 * projector is built but not started: the process (main.ts) or the test decides.
 */
export const createService = (sql: Sql, options: ServiceOptions) => {
  const { log, ...hooks } = options;
  const metrics = createMetrics(() => projectionLags(sql));
  const write = createWriteSide(sql, options, { log, metrics, hooks });
  const viewsChanged = createViewsChanged();
  const changedViews = listenForChangedViews({ sql, viewsChanged, log });
  const projector = createProjectors({
    sql,
    log,
    ...options.projector,
    onApplied: (projection, count) => metrics.projectedEvents.inc({ projection }, count),
  });
  const readModel = createReadModel(sql);
  const health = watchDatabase({
    probe: () => probeDatabase(sql, PROBE_TIMEOUT_MS),
    log,
    onDown: () => write.writers.forget(),
    onUp: () => changedViews.resubscribe(),
  });
  const attendees = createAttendees(createAttendeeKeys(sql));
  const eventSourced = (handlers: typeof write.handlers) => eventSourcedBookings(handlers, write, readModel, attendees);
  const clock = hooks.clock ?? (() => new Date());
  const crud = crudBookings(sql, { clock, ...hooks.crud });
  const crudAtomic = crudAtomicBookings(sql, { clock });
  const designs = {
    '/conferences': eventSourced(write.handlers),
    '/batched/conferences': eventSourced(write.batchedHandlers),
    '/direct/conferences': eventSourced(write.directHandlers),
    '/crud/conferences': crud,
    '/crud-atomic/conferences': crudAtomic,
  };
  const expirer = new HoldExpirer({
    sql,
    log,
    expireHold: (hold) => write.handlers.expireHold(hold),
    clock,
    pollIntervalMs: options.holds.expiryPollIntervalMs,
    onExpired: (lateMs) => metrics.holdExpiryLateness.observe(lateMs / 1000),
  });
  // Each CRUD design expires its holds by a sweep of its own, as often as the event-sourced expirer looks.
  const crudHoldSweepers = Object.entries({ crud, 'crud-atomic': crudAtomic }).map(
    ([design, { expireDueHolds }]) =>
      new HoldSweeper({ design, expireDueHolds, clock, intervalMs: options.holds.expiryPollIntervalMs, log }),
  );
  // Aborted by closeLiveStreams(): open event streams would otherwise keep the server from closing.
  const liveStreams = new AbortController();
  const app = createApp({
    designs,
    eventStore: write.eventStore,
    attendees,
    live: {
      readModel,
      viewsChanged,
      closing: liveStreams.signal,
      ...(hooks.liveTiming ? { timing: hooks.liveTiming } : {}),
    },
    sql,
    health,
    metrics,
    projectionLag: () => projectionLags(sql),
    log,
    bodyLimitBytes: options.bodyLimitBytes,
    holds: options.holds,
    operator: options.operator,
  });
  return {
    ...write,
    app,
    bookings: designs['/conferences'],
    crudBookings: designs['/crud/conferences'],
    crudAtomicBookings: designs['/crud-atomic/conferences'],
    metrics,
    projector,
    /** Personal data: sealed, revealed and forgotten (see src/attendees). */
    attendees,
    /** Not started: the process (main.ts) or the test decides. */
    expirer,
    readModel,
    viewsChanged,
    /**
     * Feeds `viewsChanged` from every projector's notifications (whichever process leads), so live
     * readers here are woken at once. Not started: the process (main.ts) or the test decides.
     */
    changedViews,
    health,
    /** The CRUD designs' sweeps of due holds, built but not started: the process (main.ts) or the test decides. */
    crudHoldSweeps: {
      start: () => crudHoldSweepers.forEach((sweeper) => sweeper.start()),
      stop: () => crudHoldSweepers.forEach((sweeper) => sweeper.stop()),
    },
    /** Before the service says it is ready; see warmUpService. */
    warmUp: (connections: number) => warmUpService(sql, options, app, connections),
    /** Ends every open GET /conferences/:id/stream, so the HTTP server can close. */
    closeLiveStreams: () => liveStreams.abort(),
    /** Stops the service's own timers (database probe, cache sweeper, hold sweeps); the pool is the caller's. */
    close: () => {
      health.stop();
      write.writers.close();
      write.wakeUps.flush();
      crudHoldSweepers.forEach((sweeper) => sweeper.stop());
    },
  };
};

/**
 * Opens `connections` of the pool and primes the hot path's statements on each, then rehearses a
 * reservation so its code is compiled. Without it the first reservation after a restart took
 * about 60 ms, the next ones 5 ms.
 */
const warmUpService = async (sql: Sql, options: ServiceOptions, app: Service['app'], connections: number) => {
  const { log } = options;
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
};
