import type { EventStore, StreamAppend } from '../event-store/event-store.js';
import type { SeatAvailabilityCommand } from '../seat-availability/index.js';
import type { CommandMetadata, CommandOutcome } from './command-outcome.js';
import { noCache, processBatch, type CommandDeps } from './write-pipeline.js';

/** Appends one conference's batch in a statement of its own. */
const appendAlone =
  (eventStore: EventStore) =>
  ({ streamId, expectedVersion, events, newKeys }: StreamAppend) =>
    eventStore.append(streamId, expectedVersion, events, newKeys);

/**
 * The direct write path: the command is a batch of one, decided with no cache (the conference
 * loaded, its reservation looked up) and appended alone, by the same pipeline as the batched
 * writer's (write-pipeline.ts): the same version check, retries, outcomes and snapshot policy.
 */
export const handleCommand = (
  deps: CommandDeps,
  command: SeatAvailabilityCommand,
  metadata: CommandMetadata,
): Promise<CommandOutcome> =>
  new Promise((resolve, reject) => {
    const stopTimer = deps.metrics.commandDuration.startTimer({ command: command.type });
    const direct = { ...deps, append: appendAlone(deps.eventStore) };
    void processBatch(direct, command.conferenceId, noCache(), [{ command, metadata, resolve, reject, stopTimer }]);
  });
