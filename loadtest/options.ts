import { parseArgs } from 'node:util';
import { ROUTINGS, type Routing } from '../src/cluster/haproxy-config.js';
import type { GeneratorPriority } from './open/generator-process.js';
import type { Spacing } from './open/schedule.js';

/**
 * The designs the harness can drive, and where each is served. `es-attendees` is es-batched with
 * every reservation naming its attendee (name and email, encrypted with a key of their own): what
 * personal data costs, against es-batched in the same run.
 */
export const DESIGNS = {
  'es-batched': '/batched/conferences',
  'es-direct': '/direct/conferences',
  crud: '/crud/conferences',
  'crud-atomic': '/crud-atomic/conferences',
  'es-attendees': '/batched/conferences',
} as const;
export type Design = keyof typeof DESIGNS;

/** The designs whose reservations name their attendee. */
export const namesAttendees = (design: Design): boolean => design === 'es-attendees';

/** The designs a run compares when --design does not say: every design but the attendee variant. */
const DEFAULT_DESIGNS = (Object.keys(DESIGNS) as Design[]).filter((design) => !namesAttendees(design));

/** The scenarios whose reservations name an attendee under es-attendees (the others would not). */
const ATTENDEE_SCENARIOS: readonly Scenario[] = ['surge', 'spread', 'hotspot'];

/** The CRUD baselines; results name the strongest of them. */
export const CRUD_DESIGNS: readonly Design[] = ['crud', 'crud-atomic'];
export const isCrud = (design: string): boolean => (CRUD_DESIGNS as readonly string[]).includes(design);

export const SCENARIOS = ['surge', 'spread', 'hotspot', 'mixed', 'spike', 'checkout'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * How load is offered: `closed`, N connections each sending its next request when the last is
 * answered (autocannon; peak throughput); `open`, arrivals on a schedule that does not wait for
 * answers (visitors arriving at a rate), with latency from each arrival's intended start.
 */
export const MODELS = ['closed', 'open'] as const;
export type Model = (typeof MODELS)[number];

/** The open model's settings (see USAGE). */
export type OpenModelOptions = {
  /** The latency objective: capacity is the highest rate at which p99 stays at or under it. */
  sloMs: number;
  spacing: Spacing;
  /** Seconds of each step of the capacity search. */
  stepSeconds: number;
  /** The search's first rate, and the highest it tries (arrivals/s). */
  startRate: number;
  maxRate: number;
  /** Steps that halve the interval between the best passing and the lowest failing rate. */
  refinements: number;
  /** Connections the generator may open; by default from the rate (Little's law). */
  connections: number | undefined;
  /** The spike: its rate and base rate (default 3× and ½× the strongest CRUD's capacity) and its parts' seconds. */
  spikeRate: number | undefined;
  baseRate: number | undefined;
  spikeSeconds: { base: number; spike: number; recovery: number };
  /** How the generator process is scheduled (see GeneratorPriority). */
  generatorPriority: GeneratorPriority;
};

/**
 * The faults a fault run injects into a surge: `kill-api` is SIGKILL of the API process and a
 * restart, as a crash and its supervisor would do; `kill-db` is SIGKILL of PostgreSQL (the
 * embedded server's launcher starts it again); `restart-db` is a fast shutdown of PostgreSQL, as
 * an administrator's restart or a failover would look to the API; `kill-api-one` is SIGKILL of one
 * API process of a cluster (`--processes N`), which HAProxy routes around and its launcher restarts.
 */
export const FAULTS = ['kill-api', 'kill-db', 'restart-db', 'kill-api-one'] as const;
export type Fault = (typeof FAULTS)[number];

/**
 * A service the harness starts and measures: one process (`npm start`), or API processes behind
 * HAProxy (`npm run start:cluster`) with its routing; `proxied` tells a cluster of one apart.
 */
export type Topology = { processes: number; routing: Routing; proxied: boolean };

/**
 * Every processes count with every routing; one process has no routing to vary, and runs as
 * `npm start` does, then also behind HAProxy when asked (`--one-behind-haproxy`): the hop's own
 * cost, apart from the cost of more processes.
 */
export const topologies = ({
  processes,
  routings,
  oneBehindHaproxy,
}: Pick<LoadtestOptions, 'processes' | 'routings' | 'oneBehindHaproxy'>): Topology[] =>
  processes.flatMap((n): Topology[] =>
    n === 1
      ? [
          { processes: 1, routing: 'affinity' as const, proxied: false },
          ...(oneBehindHaproxy ? [{ processes: 1, routing: 'affinity' as const, proxied: true }] : []),
        ]
      : routings.map((routing) => ({ processes: n, routing, proxied: true })),
  );

export const topologyLabel = ({ processes, routing, proxied }: Topology): string =>
  processes > 1 ? `${processes} processes, ${routing}` : proxied ? '1 process behind HAProxy' : '1 process';

export type LoadtestOptions = {
  designs: Design[];
  scenarios: Scenario[];
  connections: number[];
  /** Held load per throughput phase, after the ramp. */
  durationSeconds: number;
  /** Instead of a duration: requests per throughput phase. */
  requests: number | undefined;
  /** Seats in the sell-out phase (attempts are `selloutFactor` times as many) and in the checkout. */
  capacity: number;
  selloutFactor: number;
  /** Each ramp step (a quarter, then half the connections) lasts this long. */
  rampSeconds: number;
  /** How long each hold of the checkout scenario lasts. */
  holdSeconds: number;
  /** Conferences in the spread scenario, and the quiet ones of the hotspot scenario. */
  spreadConferences: number;
  target: string | undefined;
  outDir: string;
  quick: boolean;
  /** A fault run instead of the scenarios: these faults, each injected `faultRepeats` times. */
  faults: Fault[];
  faultRepeats: number;
  model: Model;
  open: OpenModelOptions;
  /** API processes of the services measured, one after another (1: `npm start`, more: a cluster). */
  processes: number[];
  /** How a cluster routes (`--routing`); each processes count above 1 runs with each. */
  routings: Routing[];
  /** With 1 in `processes`: one process behind HAProxy too (see topologies). */
  oneBehindHaproxy: boolean;
};

export const USAGE = `npm run loadtest -- [options]

  --design es-batched,es-direct,crud,crud-atomic,es-attendees
                            designs to compare (default: all but es-attendees); es-attendees
                            is es-batched with every reservation naming its attendee (name and
                            email, encrypted): run it beside es-batched (closed surge, spread,
                            hotspot) to see what personal data costs
  --scenario surge,spread,hotspot,mixed,spike,checkout
                            scenarios to run (default: surge; spike needs --model open).
                            checkout: visitors hold 1-2 seats, think, then 60% confirm, 30%
                            abandon (the hold expires), 10% release, on --capacity seats
  --model closed|open       closed: N connections, each waits for its answer (autocannon, peak
                            throughput; the default). open: arrivals at a rate whatever the
                            service does, latency from each arrival's intended start; per design
                            the capacity at the latency objective (docs/load-testing.md)
  --slo-ms 100              open: the latency objective, p99 of every answer
  --arrivals poisson        open: poisson (exponential gaps, seeded) or constant spacing
  --step-seconds 5          open: seconds of each step of the capacity search
  --start-rate 200          open: the search's first rate (arrivals/s); it grows 1.5× a step...
  --max-rate 20000          open: ...up to this, then halves the gap around the capacity
  --refinements 3           open: steps that halve that gap
  --open-connections N      open: connections the generator may open (default: rate × objective)
  --spike-rate N            open spike: arrivals/s of the spike (default 3× the strongest CRUD's capacity)
  --base-rate N             open spike: before and after it (default ½ the strongest CRUD's capacity)
  --generator-priority realtime   open: realtime (SCHED_FIFO through chrt, root only; the
                            generator keeps its schedule on cores it shares) or normal
  --connections 64          concurrent connections; a list sweeps them (e.g. 16,64,256)
  --duration 20             seconds of held load per throughput phase (after a short ramp)
  --requests N              instead of --duration: requests per throughput phase
  --capacity 1000           seats in the sell-out phase (20x as many attempts) and the checkout
  --hold-seconds 3          checkout: how long each hold lasts (whole seconds)
  --quick                   a small run (a few seconds) for tests and smoke checks
  --processes 1,3           API processes of the service measured, one service after another:
                            1 is npm start; more is npm run start:cluster (HAProxy in front,
                            needs haproxy installed); tables name each (docs/scaling.md)
  --routing affinity,round-robin
                            how a cluster routes: affinity (each conference to the process
                            that owns it, the default) or round-robin; each is measured
  --one-behind-haproxy      with 1 in --processes: one process behind HAProxy as well, so the
                            proxy's own cost shows apart from that of more processes
  --fault kill-api,kill-db,restart-db,kill-api-one
                            a fault run instead of the scenarios: a surge with these faults
                            injected (default design es-batched); with --scenario checkout,
                            the checkout with the API killed (kill-api only); kill-api-one:
                            kill -9 of one process of a cluster (--processes N, alone); see
                            docs/load-testing.md
  --fault-repeats 3         times each fault is injected
  --target URL              measure a server you started yourself instead of starting one;
                            its operator token in the environment as ADMIN_TOKEN
  --out DIR                 where reports go (default loadtest/results/<timestamp>)`;

const list = <T extends string>(value: string, allowed: readonly T[], name: string): T[] => {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((item) => !allowed.includes(item as T));
  if (bad.length > 0 || items.length === 0)
    throw new Error(`--${name} must be a list of ${allowed.join(', ')} (got "${value}")`);
  return items as T[];
};

const single = <T extends string>(value: string, allowed: readonly T[], name: string): T => {
  if (!allowed.includes(value as T)) throw new Error(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
};

const positive = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${value}")`);
  return n;
};

const wholeSeconds = (value: string | undefined, name: string): number | undefined => {
  const n = positive(value, name);
  if (n !== undefined && !Number.isInteger(n)) throw new Error(`--${name} must be a whole number (got "${value}")`);
  return n;
};

/** The open model's options (`values` as parseArgs gives them). */
const parseOpenOptions = (values: Record<string, string | boolean | undefined>, quick: boolean): OpenModelOptions => {
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
  const refinementsGiven = text('refinements');
  const refinements = refinementsGiven === undefined ? (quick ? 0 : 3) : Number(refinementsGiven);
  if (!Number.isInteger(refinements) || refinements < 0) {
    throw new Error(`--refinements must be a whole number (got "${refinementsGiven}")`);
  }
  const arrivals = text('arrivals');
  const priority = text('generator-priority');
  return {
    sloMs: positive(text('slo-ms'), 'slo-ms') ?? 100,
    spacing: arrivals ? single(arrivals, ['poisson', 'constant'] as const, 'arrivals') : 'poisson',
    stepSeconds: positive(text('step-seconds'), 'step-seconds') ?? (quick ? 1 : 5),
    startRate: positive(text('start-rate'), 'start-rate') ?? (quick ? 50 : 200),
    maxRate: positive(text('max-rate'), 'max-rate') ?? (quick ? 120 : 20_000),
    refinements,
    connections: positive(text('open-connections'), 'open-connections'),
    spikeRate: positive(text('spike-rate'), 'spike-rate'),
    baseRate: positive(text('base-rate'), 'base-rate'),
    spikeSeconds: quick ? { base: 1, spike: 1, recovery: 2 } : { base: 5, spike: 5, recovery: 10 },
    generatorPriority: priority ? single(priority, ['realtime', 'normal'] as const, 'generator-priority') : 'realtime',
  };
};

export const parseOptions = (argv: string[], now = new Date()): LoadtestOptions => {
  const { values } = parseArgs({
    args: argv,
    options: {
      design: { type: 'string' },
      scenario: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      capacity: { type: 'string' },
      'hold-seconds': { type: 'string' },
      quick: { type: 'boolean', default: false },
      target: { type: 'string' },
      fault: { type: 'string' },
      'fault-repeats': { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      'slo-ms': { type: 'string' },
      arrivals: { type: 'string' },
      'step-seconds': { type: 'string' },
      'start-rate': { type: 'string' },
      'max-rate': { type: 'string' },
      refinements: { type: 'string' },
      'open-connections': { type: 'string' },
      'spike-rate': { type: 'string' },
      'base-rate': { type: 'string' },
      'generator-priority': { type: 'string' },
      processes: { type: 'string' },
      routing: { type: 'string' },
      'one-behind-haproxy': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageRequested();
  const quick = values.quick ?? false;
  const connections = values.connections
    ? values.connections.split(',').map((c) => {
        const n = positive(c, 'connections');
        if (!n || !Number.isInteger(n))
          throw new Error(`--connections must be whole numbers (got "${values.connections}")`);
        return n;
      })
    : [quick ? 8 : 64];
  const capacity = positive(values.capacity, 'capacity') ?? (quick ? 50 : 1000);
  if (values.target && !/^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/.test(values.target)) {
    throw new Error(`--target must be a loopback URL such as http://127.0.0.1:3000 (got "${values.target}")`);
  }
  const faults = values.fault ? list(values.fault, FAULTS, 'fault') : [];
  if (faults.length > 0 && values.target) {
    throw new Error(
      '--fault kills and restarts the server and its database: it needs a self-started server, not --target',
    );
  }
  const faultRepeats = positive(values['fault-repeats'], 'fault-repeats') ?? (quick ? 1 : 3);
  const model = values.model ? single(values.model, MODELS, 'model') : 'closed';
  const scenarios = values.scenario ? list(values.scenario, SCENARIOS, 'scenario') : ['surge' as const];
  if (scenarios.includes('spike') && model !== 'open') {
    throw new Error('--scenario spike offers arrivals at a rate: it needs --model open');
  }
  if (faults.length > 0 && scenarios.includes('checkout') && faults.some((f) => f !== 'kill-api')) {
    throw new Error('--scenario checkout injects kill-api only: leave out the database faults');
  }
  if (model === 'open' && faults.length > 0)
    throw new Error('--fault runs a closed-loop surge: leave out --model open');
  const designs = values.design
    ? list(values.design, Object.keys(DESIGNS) as Design[], 'design')
    : faults.length > 0
      ? (['es-batched'] as Design[])
      : DEFAULT_DESIGNS;
  if (
    designs.some(namesAttendees) &&
    (model !== 'closed' || faults.length > 0 || scenarios.some((s) => !ATTENDEE_SCENARIOS.includes(s)))
  ) {
    throw new Error('--design es-attendees runs the closed-model surge, spread and hotspot only, without faults');
  }
  const crudCapacityFound = scenarios.includes('surge') && designs.some(isCrud);
  if (scenarios.includes('spike') && values['spike-rate'] === undefined && !crudCapacityFound) {
    throw new Error(
      '--scenario spike is 3× the strongest CRUD capacity at the objective: run it with surge and a CRUD design (--scenario surge,spike), or give --spike-rate',
    );
  }
  const { processes, routings } = parseTopologies(values, faults, model, values.target);
  const open = parseOpenOptions(values, quick);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    designs,
    scenarios,
    connections,
    durationSeconds: positive(values.duration, 'duration') ?? (quick ? 2 : 20),
    requests: positive(values.requests, 'requests'),
    capacity: Math.round(capacity),
    selloutFactor: 20,
    holdSeconds: wholeSeconds(values['hold-seconds'], 'hold-seconds') ?? 3,
    rampSeconds: quick ? 0.5 : 2,
    spreadConferences: quick ? 20 : 1000,
    target: values.target?.replace(/\/$/, ''),
    outDir: values.out ?? `loadtest/results/${stamp}`,
    quick,
    faults,
    faultRepeats: Math.round(faultRepeats),
    model,
    open,
    processes,
    routings,
    oneBehindHaproxy: values['one-behind-haproxy'] ?? false,
  };
};

/** `--processes` and `--routing`, and what they cannot be combined with. */
const parseTopologies = (
  values: { processes?: string | undefined; routing?: string | undefined; 'one-behind-haproxy'?: boolean | undefined },
  faults: Fault[],
  model: Model,
  target: string | undefined,
): { processes: number[]; routings: Routing[] } => {
  const processes = values.processes
    ? values.processes.split(',').map((value) => {
        const n = Number(value.trim());
        if (!Number.isInteger(n) || n < 1 || n > 32)
          throw new Error(`--processes must be whole numbers from 1 to 32 (got "${values.processes}")`);
        return n;
      })
    : [1];
  const routings = values.routing ? list(values.routing, ROUTINGS, 'routing') : (['affinity'] as Routing[]);
  const oneBehindHaproxy = values['one-behind-haproxy'] ?? false;
  if (oneBehindHaproxy && !processes.includes(1))
    throw new Error('--one-behind-haproxy runs one process behind HAProxy: put 1 in --processes');
  const cluster = processes.some((n) => n > 1) || oneBehindHaproxy;
  if (cluster && target) throw new Error('--processes starts its own cluster: leave out --target');
  if (cluster && model === 'open') throw new Error('--processes measures the closed model: leave out --model open');
  if (faults.includes('kill-api-one')) {
    if (faults.length > 1) throw new Error('--fault kill-api-one runs alone: leave out the other faults');
    if (processes.length !== 1 || processes[0]! < 2)
      throw new Error('--fault kill-api-one kills one process of a cluster: give one --processes of 2 or more');
  } else if (cluster && faults.length > 0) {
    throw new Error(`--fault ${faults.join(',')} runs on one process: leave out --processes, or use kill-api-one`);
  }
  return { processes, routings };
};

export class UsageRequested extends Error {
  override readonly name = 'UsageRequested';
}

/**
 * A command's options parsed from its arguments, or the process ends: with the usage and 0 when
 * it was asked for (`--help`), with the problem, the usage and 1 when they cannot be used.
 */
export const parseOrExit = <T>(parse: () => T, usage: string): T => {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageRequested) {
      console.log(usage);
      process.exit(0);
    }
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(1);
  }
};
