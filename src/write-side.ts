import {
  createCommandHandlers,
  createConferenceWriters,
  handleCommand,
  type CommandDeps,
} from './command-handlers/index.js';
import type { Sql } from './database/connect.js';
import { createEventStore } from './event-store/event-store.js';
import { createProjectorWakeUps } from './event-store/projector-wake-ups.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { ServiceHooks, ServiceSettings } from './service.js';
import { createSnapshots } from './snapshots/index.js';

/**
 * The event-sourced write side: the event store, the snapshots, and the command handlers of both
 * write paths (through the conference writers, or direct), with `handlers` the configured one.
 */
export const createWriteSide = (
  sql: Sql,
  settings: Pick<
    ServiceSettings,
    'snapshotInterval' | 'snapshotKeep' | 'writePath' | 'batch' | 'groupCommit' | 'retry' | 'projector'
  >,
  { log, metrics, hooks }: { log: Logger; metrics: Metrics; hooks: ServiceHooks },
) => {
  const clock = hooks.clock ?? (() => new Date());
  const wakeUps = createProjectorWakeUps(sql, { intervalMs: settings.projector.wakeIntervalMs, log });
  const eventStore = createEventStore(sql, { wakeUps });
  const snapshots = createSnapshots(sql, {
    interval: settings.snapshotInterval,
    keep: settings.snapshotKeep,
    log,
    onWrite: (outcome) => metrics.snapshots.inc({ outcome }),
    ...(hooks.writeSnapshot ? { write: hooks.writeSnapshot } : {}),
  });
  const commandDeps: CommandDeps = {
    eventStore,
    snapshots,
    metrics,
    retry: settings.retry,
    ...(hooks.sleep ? { sleep: hooks.sleep } : {}),
  };
  const writers = createConferenceWriters({
    ...commandDeps,
    batch: settings.batch,
    groupCommit: settings.groupCommit,
    ...(hooks.afterBatchAppend ? { afterAppend: hooks.afterBatchAppend } : {}),
  });
  const directHandlers = createCommandHandlers({
    clock,
    handle: (command, metadata) => handleCommand(commandDeps, command, metadata),
  });
  const batchedHandlers = createCommandHandlers({ clock, handle: writers.handle });
  return {
    eventStore,
    /** Wakes the projectors after appends; `flush()` as the process stops. */
    wakeUps,
    snapshots,
    writers,
    directHandlers,
    batchedHandlers,
    handlers: settings.writePath === 'direct' ? directHandlers : batchedHandlers,
  };
};
