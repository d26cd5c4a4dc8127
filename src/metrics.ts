import { Counter, Histogram, Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** Prometheus metrics of one app instance, on a registry of its own (so tests can build many apps). */
export const createMetrics = () => {
  const registry = new Registry();
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
    retriesExhausted: new Counter({
      name: 'seat_surge_command_retries_exhausted_total',
      help: 'Commands answered busy because every retry met a version conflict',
      registers: [registry],
    }),
    snapshots: new Counter({
      name: 'seat_surge_snapshots_total',
      help: 'Snapshot writes, by outcome (written, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
};
