import { audit, type AuditResult } from './audit.js';
import type { CheckoutFigures } from './checkout/checkout-figures.js';
import { cpuUse, type CpuTimes, type CpuUse } from './cpu.js';
import { drive } from './drive.js';
import { Ledger } from './ledger.js';
import { DESIGNS, namesAttendees, type Design, type LoadtestOptions, type Scenario } from './options.js';
import { Recorder, type LagSummary, type TimelinePoint } from './recorder.js';
import { sampleLag, scrapeCounters, waitUntilIdle, type ServerCounters } from './server-metrics.js';
import type { Percentiles } from './stats.js';
import { seededRandom } from './random.js';
import { round } from './stats.js';
import {
  bookingWorkload,
  ceilingWorkload,
  hotspotWorkload,
  mixedWorkload,
  oneSeat,
  SEAT_TYPES,
  type Workload,
} from './workloads.js';
import { operatorHeaders } from './operator-token.js';

export type Phase = 'throughput' | 'sellout' | 'mixed' | 'ceiling' | 'checkout';

/** One measured phase of one design at one connection count: the rows of the report. */
export type PhaseResult = {
  design: Design | 'http-ceiling';
  /** The service it ran on, when the run compared several (`--processes`): "3 processes, affinity". */
  topology?: string;
  scenario: Scenario | 'ceiling';
  phase: Phase;
  connections: number;
  /** Seconds of the measured (held) part. */
  durationSeconds: number;
  requests: number;
  errors: number;
  statusCounts: Record<string, number>;
  reservationsCommitted: number;
  reservationsPerSecond: number;
  requestsPerSecond: number;
  /** Reservation attempts answered (201 + 409) per second. */
  attemptsPerSecond: number;
  latencyMs: { all: Percentiles; committed: Percentiles };
  /** Server counters over the phase (differences), and each projection's lag right after it. */
  server: Omit<ServerCounters, 'requestsInFlight'>;
  /** Each projection's lag sampled every second of the held part (ms): p50, p99, max. */
  lag: Record<string, LagSummary>;
  sellout?: { capacity: number; attempts: number; seatsSold: number; timeToSellOutSeconds: number | null };
  /** The checkout's own figures: rates, latencies by kind, expiry lag, seats held at the end. */
  checkout?: CheckoutFigures;
  /** The hotspot scenario's hot conference on its own: its committed/s and the latency of its requests. */
  hot?: { conferenceId: string; reservationsPerSecond: number; latencyMs: Percentiles };
  timeline: TimelinePoint[];
  /** CPU used by the service's processes and the load generator during the held part (self-started server on Linux). */
  cpu?: CpuUse;
  audit?: AuditResult;
};

/** The design as reports name it: with the service it ran on, when the run compared several. */
export const designLabel = (r: { design: string; topology?: string | undefined }): string =>
  r.topology ? `${r.design} · ${r.topology}` : r.design;

export type PhaseContext = {
  baseUrl: string;
  /** The API processes' own addresses, when a cluster runs: the counters are each one's (see metricsOf). */
  processUrls?: readonly string[];
  options: LoadtestOptions;
  runTag: string;
  /** Reads the CPU time used so far by role; absent when the server is not this run's own. */
  cpuTimes?: () => CpuTimes | undefined;
};

/** Where the service's counters are read: every API process of a cluster, else the service itself. */
export const metricsOf = (ctx: Pick<PhaseContext, 'baseUrl' | 'processUrls'>): readonly string[] =>
  ctx.processUrls ?? [ctx.baseUrl];

/** The CPU times at the start and at the end of a phase's held part. */
export type CpuReadings = { before: CpuTimes | undefined; after: CpuTimes | undefined };

const post = async (url: string, body: unknown) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...operatorHeaders },
    body: JSON.stringify(body),
  });
  if (response.status === 401) {
    throw new Error(`POST ${url} answered 401: set ADMIN_TOKEN to the operator token of the server under test`);
  }
  if (response.status !== 201) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
};

/** Fresh conferences for one phase, so designs and phases never share rows. */
export const createConferences = async (
  ctx: Pick<PhaseContext, 'baseUrl'>,
  design: Design,
  ids: string[],
  capacity: number,
) => {
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      await post(`${ctx.baseUrl}${DESIGNS[design]}`, {
        id,
        name: `Load test ${id}`,
        seatTypes: SEAT_TYPES.map((type) => ({ type, capacity })),
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
};

export const difference = ({ requestsInFlight: _, ...after }: ServerCounters, before: ServerCounters) => ({
  versionConflicts: after.versionConflicts - before.versionConflicts,
  retries: after.retries - before.retries,
  retriesExhausted: after.retriesExhausted - before.retriesExhausted,
  projectionLag: after.projectionLag,
});

export const summarise = (
  base: Pick<PhaseResult, 'design' | 'scenario' | 'phase' | 'connections'>,
  recorder: Recorder,
  durationSeconds: number,
  server: PhaseResult['server'],
  { before, after }: CpuReadings,
): PhaseResult => {
  const requests = Object.values(recorder.statusCounts).reduce((a, b) => a + b, 0);
  const committed = recorder.committedLatencies.length;
  const answered = (recorder.statusCounts[201] ?? 0) + (recorder.statusCounts[409] ?? 0);
  return {
    ...base,
    durationSeconds: round(durationSeconds, 2),
    requests,
    errors: recorder.errors,
    statusCounts: recorder.statusCounts,
    reservationsCommitted: committed,
    reservationsPerSecond: round(committed / durationSeconds),
    requestsPerSecond: round(requests / durationSeconds),
    attemptsPerSecond: round(answered / durationSeconds),
    latencyMs: recorder.latency(),
    server,
    lag: recorder.lag(),
    timeline: recorder.timeline(),
    ...(before && after ? { cpu: cpuUse(before, after, durationSeconds, { requests, committed }) } : {}),
  };
};

/**
 * A load that ramps up sharply (a quarter, then half the connections, `rampSeconds` each) and
 * is then held at full strength; only the held part is measured. The projections' lag is
 * sampled every second of it, ramp included.
 */
const rampThenHold = async (
  { baseUrl, processUrls, options, cpuTimes }: PhaseContext,
  connections: number,
  workload: Workload,
  recorder: Recorder,
  ledger: Ledger,
  title: string,
): Promise<{ seconds: number; cpu: CpuReadings }> => {
  const sampler = sampleLag(metricsOf({ baseUrl, ...(processUrls ? { processUrls } : {}) }), recorder);
  try {
    for (const share of [4, 2]) {
      const c = Math.max(1, Math.floor(connections / share));
      await drive({
        baseUrl,
        connections: c,
        durationSeconds: options.rampSeconds,
        workload,
        recorder,
        ledger,
        title: `${title} ramp ${c}`,
      });
    }
    recorder.hold();
    const started = performance.now();
    const before = cpuTimes?.();
    await drive({
      baseUrl,
      connections,
      ...(options.requests ? { amount: options.requests } : { durationSeconds: options.durationSeconds }),
      workload,
      recorder,
      ledger,
      title,
    });
    return { seconds: (performance.now() - started) / 1000, cpu: { before, after: cpuTimes?.() } };
  } finally {
    await sampler.stop();
  }
};

/**
 * Throughput of reservations that cannot sell out: the surge's first phase (one conference),
 * spread (many), or hotspot (half to one hot conference, half spread over many quiet ones; the
 * hot one is also measured on its own).
 */
export const throughputPhase = async (
  ctx: PhaseContext,
  design: Design,
  scenario: 'surge' | 'spread' | 'hotspot',
  connections: number,
): Promise<PhaseResult> => {
  const count = scenario === 'surge' ? 1 : ctx.options.spreadConferences + (scenario === 'hotspot' ? 1 : 0);
  const ids = Array.from({ length: count }, (_, i) => `${ctx.runTag}-${design}-${scenario}-c${connections}-${i}`);
  // Far more seats than the phase can sell, so it measures booking, not refusing.
  await createConferences(ctx, design, ids, 10_000_000);
  const ledger = new Ledger();
  const [hotId = '', ...quietIds] = ids;
  const recorder = new Recorder(scenario === 'hotspot' ? hotId : undefined);
  const idPrefix = `${design}-${scenario}-${connections}`;
  const workload =
    scenario === 'hotspot'
      ? hotspotWorkload(DESIGNS[design], hotId, quietIds, idPrefix, seededRandom(connections), namesAttendees(design))
      : bookingWorkload(DESIGNS[design], ids, idPrefix, seededRandom(connections), undefined, namesAttendees(design));
  const before = await scrapeCounters(metricsOf(ctx));
  const { seconds, cpu } = await rampThenHold(
    ctx,
    connections,
    workload,
    recorder,
    ledger,
    `${design} ${scenario} c=${connections}`,
  );
  await waitUntilIdle(metricsOf(ctx));
  const server = difference(await scrapeCounters(metricsOf(ctx)), before);
  const result = summarise({ design, scenario, phase: 'throughput', connections }, recorder, seconds, server, cpu);
  const hot = recorder.watched(seconds);
  return { ...result, ...(hot ? { hot } : {}), audit: await audit(ctx.baseUrl, DESIGNS[design], ids, ledger) };
};

/** The surge's second phase: `capacity` seats against many more single-seat attempts. */
export const selloutPhase = async (ctx: PhaseContext, design: Design, connections: number): Promise<PhaseResult> => {
  const { capacity, selloutFactor } = ctx.options;
  const id = `${ctx.runTag}-${design}-sellout-c${connections}`;
  await createConferences(ctx, design, [id], capacity);
  const ledger = new Ledger();
  const recorder = new Recorder();
  const attempts = capacity * selloutFactor;
  const workload = bookingWorkload(
    DESIGNS[design],
    [id],
    `${design}-sellout-${connections}`,
    seededRandom(7),
    oneSeat,
    namesAttendees(design),
  );
  const before = await scrapeCounters(metricsOf(ctx));
  recorder.hold();
  const sampler = sampleLag(metricsOf(ctx), recorder);
  const cpu: CpuReadings = { before: ctx.cpuTimes?.(), after: undefined };
  try {
    await drive({
      baseUrl: ctx.baseUrl,
      connections,
      amount: attempts,
      workload,
      recorder,
      ledger,
      title: `${design} sell-out c=${connections}`,
    });
    cpu.after = ctx.cpuTimes?.();
  } finally {
    await sampler.stop();
  }
  const seconds = recorder.heldSeconds();
  await waitUntilIdle(metricsOf(ctx));
  const server = difference(await scrapeCounters(metricsOf(ctx)), before);
  const result = summarise(
    { design, scenario: 'surge', phase: 'sellout', connections },
    recorder,
    seconds,
    server,
    cpu,
  );
  const standardSold = recorder.commitTimes.length;
  const lastSale = recorder.commitTimes.at(-1);
  return {
    ...result,
    sellout: {
      capacity,
      attempts,
      seatsSold: standardSold,
      timeToSellOutSeconds:
        standardSold >= capacity && lastSale !== undefined ? round((lastSale - recorder.heldFrom) / 1000, 3) : null,
    },
    audit: await audit(ctx.baseUrl, DESIGNS[design], [id], ledger),
  };
};

/** Reservations, cancels and availability reads together on one conference. */
export const mixedPhase = async (ctx: PhaseContext, design: Design, connections: number): Promise<PhaseResult> => {
  const id = `${ctx.runTag}-${design}-mixed-c${connections}`;
  await createConferences(ctx, design, [id], 10_000_000);
  const ledger = new Ledger();
  const recorder = new Recorder();
  const workload = mixedWorkload(
    DESIGNS[design],
    id,
    `${design}-mixed-${connections}`,
    seededRandom(connections + 1),
    ledger,
  );
  const before = await scrapeCounters(metricsOf(ctx));
  const { seconds, cpu } = await rampThenHold(
    ctx,
    connections,
    workload,
    recorder,
    ledger,
    `${design} mixed c=${connections}`,
  );
  await waitUntilIdle(metricsOf(ctx));
  const server = difference(await scrapeCounters(metricsOf(ctx)), before);
  const result = summarise({ design, scenario: 'mixed', phase: 'mixed', connections }, recorder, seconds, server, cpu);
  return { ...result, audit: await audit(ctx.baseUrl, DESIGNS[design], [id], ledger) };
};

/** The ceiling of the HTTP layer at this connection count, measured like a throughput phase. */
export const ceilingPhase = async (ctx: PhaseContext, connections: number): Promise<PhaseResult> => {
  const recorder = new Recorder();
  const before = await scrapeCounters(metricsOf(ctx));
  const { seconds, cpu } = await rampThenHold(
    ctx,
    connections,
    ceilingWorkload(),
    recorder,
    new Ledger(),
    `http ceiling c=${connections}`,
  );
  await waitUntilIdle(metricsOf(ctx));
  const server = difference(await scrapeCounters(metricsOf(ctx)), before);
  return summarise(
    { design: 'http-ceiling', scenario: 'ceiling', phase: 'ceiling', connections },
    recorder,
    seconds,
    server,
    cpu,
  );
};
