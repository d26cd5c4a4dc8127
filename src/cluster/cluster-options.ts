import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ROUTINGS, type Routing } from './haproxy-config.js';

export type ClusterOptions = { processes: number; routing: Routing };

/**
 * More API processes than this on one machine is a mistake, not a plan: each keeps
 * DATABASE_POOL_SIZE connections, its projector process 4 and a listener, and the embedded
 * PostgreSQL allows 300.
 */
const MAX_PROCESSES = 16;

export const CLUSTER_USAGE = `npm run start:cluster -- [options]

  --processes N                API processes (default: one per core, ${availableParallelism()} here)
  --routing affinity|round-robin
                               affinity (default): every request of one conference goes to the
                               process that owns it; round-robin: to the next process (for
                               comparison: conferences' commands then race across processes)

HAProxy listens on PORT (default 3000) as npm start does; API process i on PORT + i.
Every other setting is npm start's (docs/operations.md); see docs/scaling.md.`;

/** Asked for the usage (--help). */
export class ClusterUsageRequested extends Error {
  override readonly name = 'ClusterUsageRequested';
}

/** The launcher's command line; throws with a sentence naming the bad option. */
export const parseClusterOptions = (argv: string[], cores = availableParallelism()): ClusterOptions => {
  const { values } = parseArgs({
    args: argv,
    options: {
      processes: { type: 'string' },
      routing: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new ClusterUsageRequested();
  const processes = values.processes === undefined ? cores : Number(values.processes);
  if (!Number.isInteger(processes) || processes < 1 || processes > MAX_PROCESSES) {
    throw new Error(`--processes must be a whole number from 1 to ${MAX_PROCESSES} (got "${values.processes}")`);
  }
  const routing = values.routing ?? 'affinity';
  if (!(ROUTINGS as readonly string[]).includes(routing)) {
    throw new Error(`--routing must be one of ${ROUTINGS.join(', ')} (got "${routing}")`);
  }
  return { processes, routing: routing as Routing };
};
