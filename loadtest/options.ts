import { parseArgs } from 'node:util';

/** The designs the harness can drive, and where each is served. */
export const DESIGNS = {
  'es-batched': '/batched/conferences',
  'es-direct': '/direct/conferences',
  crud: '/crud/conferences',
  'crud-atomic': '/crud-atomic/conferences',
} as const;
export type Design = keyof typeof DESIGNS;

export const SCENARIOS = ['surge', 'spread', 'hotspot', 'mixed'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * The faults a fault run injects into a surge: `kill-api` is SIGKILL of the API process and a
 * restart, as a crash and its supervisor would do; `kill-db` is SIGKILL of PostgreSQL (the
 * embedded server's launcher starts it again); `restart-db` is a fast shutdown of PostgreSQL, as
 * an administrator's restart or a failover would look to the API.
 */
export const FAULTS = ['kill-api', 'kill-db', 'restart-db'] as const;
export type Fault = (typeof FAULTS)[number];

export type LoadtestOptions = {
  designs: Design[];
  scenarios: Scenario[];
  connections: number[];
  /** Held load per throughput phase, after the ramp. */
  durationSeconds: number;
  /** Instead of a duration: requests per throughput phase. */
  requests: number | undefined;
  /** Seats in the sell-out phase; attempts are `selloutFactor` times as many. */
  capacity: number;
  selloutFactor: number;
  /** Each ramp step (a quarter, then half the connections) lasts this long. */
  rampSeconds: number;
  /** Conferences in the spread scenario, and the quiet ones of the hotspot scenario. */
  spreadConferences: number;
  target: string | undefined;
  outDir: string;
  quick: boolean;
  /** A fault run instead of the scenarios: these faults, each injected `faultRepeats` times. */
  faults: Fault[];
  faultRepeats: number;
};

export const USAGE = `npm run loadtest -- [options]

  --design es-batched,es-direct,crud,crud-atomic   designs to compare (default: all four)
  --scenario surge,spread,hotspot,mixed   scenarios to run (default: surge)
  --connections 64          concurrent connections; a list sweeps them (e.g. 16,64,256)
  --duration 20             seconds of held load per throughput phase (after a short ramp)
  --requests N              instead of --duration: requests per throughput phase
  --capacity 1000           seats in the sell-out phase (20x as many attempts)
  --quick                   a small run (a few seconds) for tests and smoke checks
  --fault kill-api,kill-db,restart-db
                            a fault run instead of the scenarios: a surge with these faults
                            injected (default design es-batched); see README "Faults"
  --fault-repeats 3         times each fault is injected
  --target URL              measure a server you started yourself instead of starting one
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

const positive = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${value}")`);
  return n;
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
      quick: { type: 'boolean', default: false },
      target: { type: 'string' },
      fault: { type: 'string' },
      'fault-repeats': { type: 'string' },
      out: { type: 'string' },
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
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    designs: values.design
      ? list(values.design, Object.keys(DESIGNS) as Design[], 'design')
      : faults.length > 0
        ? ['es-batched']
        : (Object.keys(DESIGNS) as Design[]),
    scenarios: values.scenario ? list(values.scenario, SCENARIOS, 'scenario') : ['surge'],
    connections,
    durationSeconds: positive(values.duration, 'duration') ?? (quick ? 2 : 20),
    requests: positive(values.requests, 'requests'),
    capacity: Math.round(capacity),
    selloutFactor: 20,
    rampSeconds: quick ? 0.5 : 2,
    spreadConferences: quick ? 20 : 1000,
    target: values.target?.replace(/\/$/, ''),
    outDir: values.out ?? `loadtest/results/${stamp}`,
    quick,
    faults,
    faultRepeats: Math.round(faultRepeats),
  };
};

export class UsageRequested extends Error {
  override readonly name = 'UsageRequested';
}
