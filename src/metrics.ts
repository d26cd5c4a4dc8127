import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProjectionLags } from './projections/index.js';

export type Metrics = ReturnType<typeof createMetrics>;

/** Prometheus metrics of one app instance, on a registry of its own (so tests can build many apps). */
export const createMetrics = (projectionLag: () => Promise<ProjectionLags>) => {
  const registry = new Registry();
  // Both lag gauges come from one set of queries per scrape.
  let pending: Promise<ProjectionLags> | undefined;
  const lag = () => (pending ??= projectionLag().finally(() => setImmediate(() => (pending = undefined))));
  return {
    registry,
    commands: new Counter({
      name: 'seat_surge_commands_total',
      help: 'Commands handled, by command type and outcome (accepted, repeated, a rejection code, busy, error)',
      labelNames: ['command', 'outcome'] as const,
      registers: [registry],
    }),
    commandDuration: new Histogram({
      name: 'seat_surge_command_duration_seconds',
      help: 'Time to handle a command, retries included',
      labelNames: ['command'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    versionConflicts: new Counter({
      name: 'seat_surge_version_conflicts_total',
      help: 'Appends rejected because the stream had moved past the expected version',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'seat_surge_command_retries_total',
      help: 'Commands decided again after a version conflict',
      registers: [registry],
    }),
    staleCaches: new Counter({
      name: 'seat_surge_stale_caches_total',
      help: 'Batches that appended nothing and found the stream moved past the cached version (caught up, decided again)',
      registers: [registry],
    }),
    retriesExhausted: new Counter({
      name: 'seat_surge_command_retries_exhausted_total',
      help: 'Commands answered busy because every retry met a version conflict',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'seat_surge_batch_commands',
      help: 'Commands decided together and appended in one append (batched write path)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    appendConferences: new Histogram({
      name: 'seat_surge_append_conferences',
      help: 'Conferences whose batches one append carried (group commit across conferences)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    appendEvents: new Histogram({
      name: 'seat_surge_append_events',
      help: 'Events one append of the batched write path carried, all its conferences together',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [registry],
    }),
    queueFull: new Counter({
      name: 'seat_surge_queue_full_total',
      help: "Commands refused at once (503 busy) because their conference's queue was full or its oldest command had waited too long",
      registers: [registry],
    }),
    requestsInFlight: new Gauge({
      name: 'seat_surge_http_requests_in_flight',
      help: 'HTTP requests being handled right now (this scrape included)',
      registers: [registry],
    }),
    projectionLagEvents: new Gauge({
      name: 'seat_surge_projection_lag_events',
      help: 'Committed events a projection has not applied to its views yet',
      labelNames: ['projection'] as const,
      registers: [registry],
      async collect() {
        for (const [projection, { events }] of Object.entries(await lag())) this.set({ projection }, events);
      },
    }),
    projectionLagSeconds: new Gauge({
      name: 'seat_surge_projection_lag_seconds',
      help: 'Age of the oldest committed event a projection has not applied yet (0 when up to date)',
      labelNames: ['projection'] as const,
      registers: [registry],
      async collect() {
        for (const [projection, { milliseconds }] of Object.entries(await lag())) {
          this.set({ projection }, milliseconds / 1000);
        }
      },
    }),
    projectedEvents: new Counter({
      name: 'seat_surge_projected_events_total',
      help: 'Events applied to the views by this process, by projection',
      labelNames: ['projection'] as const,
      registers: [registry],
    }),
    holdExpiryLateness: new Histogram({
      name: 'seat_surge_hold_expiry_lateness_seconds',
      help: "Holds expired by this process's expirer, by how long after their due time the expirer saw them due",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    snapshots: new Counter({
      name: 'seat_surge_snapshots_total',
      help: 'Snapshots due, by outcome (written, failed, skipped while the previous one was still being written)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
};
