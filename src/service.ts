import { createApp } from './app.js';
import { createCommandHandlers, type RetryPolicy } from './command-handlers/index.js';
import { eventSourcedBookings } from './command-handlers/event-sourced-bookings.js';
import type { Sql } from './database/connect.js';
import { createEventStore } from './event-store/event-store.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createSnapshots, type SnapshotOptions } from './snapshots/index.js';

export type ServiceOptions = {
  snapshotInterval: number;
  retry: RetryPolicy;
  bodyLimitBytes: number;
  log: Logger;
  clock?: () => Date;
  /** For tests: replace how snapshots are written (e.g. to make them fail). */
  writeSnapshot?: SnapshotOptions['write'];
  /** For tests: retry without waiting. */
  sleep?: (ms: number) => Promise<void>;
};

export type Service = ReturnType<typeof createService>;

/** The composition root: everything the service is made of, wired on one connection pool. */
export const createService = (sql: Sql, options: ServiceOptions) => {
  const { log, clock = () => new Date() } = options;
  const metrics = createMetrics();
  const eventStore = createEventStore(sql);
  const snapshots = createSnapshots(sql, {
    interval: options.snapshotInterval,
    log,
    onWrite: (outcome) => metrics.snapshots.inc({ outcome }),
    ...(options.writeSnapshot ? { write: options.writeSnapshot } : {}),
  });
  const handlers = createCommandHandlers({
    eventStore,
    snapshots,
    metrics,
    retry: options.retry,
    clock,
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  const bookings = eventSourcedBookings(handlers, { eventStore, snapshots });
  const app = createApp({ bookings, eventStore, sql, metrics, log, bodyLimitBytes: options.bodyLimitBytes });
  return { app, handlers, bookings, eventStore, snapshots, metrics };
};
