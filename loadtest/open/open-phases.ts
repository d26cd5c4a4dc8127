import { audit, type AuditResult } from '../audit.js';
import { cpuUse, type CpuUse } from '../cpu.js';
import { Ledger } from '../ledger.js';
import { DESIGNS, type Design, type Scenario } from '../options.js';
import { createConferences, metricsOf, type PhaseContext, type PhaseResult } from '../phases.js';
import { waitUntilIdle } from '../server-metrics.js';
import type { WorkloadPlan } from '../workloads.js';
import {
  capacityOf,
  connectionsFor,
  nextRate,
  recoverySeconds,
  stepVerdict,
  waitingFor,
  type StepVerdict,
} from './capacity.js';
import type { Generator } from './generator-process.js';
import { GENERATOR_LIMITS, type OpenLoadResult, type OpenWindow } from './open-load.js';
import { spikeSegments, steady, type ScheduleSegment, type SpikeShape } from './schedule.js';

export type OpenContext = PhaseContext & { generator: Generator };

/** One open load as the report shows it: what was offered and answered, the verdict at the objective, the CPU. */
export type OpenStep = Omit<OpenLoadResult, 'ledger'> & {
  /** The rate offered (the schedule's; `offeredRate` is what its arrivals came to). */
  rate: number;
  connections: number;
  verdict: StepVerdict;
  cpu?: CpuUse;
};

/** The scenarios whose capacity the open model searches (a spike and a checkout are phases of their own). */
export type CapacityScenario = Exclude<Scenario, 'spike' | 'checkout'>;

/** A design's capacity at the objective in one scenario, with the steps that found it. */
export type CapacityResult = {
  design: Design;
  scenario: CapacityScenario;
  sloMs: number;
  /** The highest rate (arrivals/s) at which p99 kept the objective with no errors and under 1% busy. */
  capacityAtSlo: number;
  /** The lowest failing step failed because the generator could not keep its schedule. */
  limitedByGenerator: boolean;
  steps: OpenStep[];
  /**
   * The closed-loop phase of this run at the same scenario, and an open step at the rate that
   * phase achieved: the same rate, measured both ways.
   */
  closed?: { connections: number; requestsPerSecond: number; reservationsPerSecond: number; p99: number };
  atClosedRate?: OpenStep;
  audit: AuditResult;
};

/** A design in a spike: the base rate, a step up, a step back down. */
export type SpikeResult = {
  design: Design;
  sloMs: number;
  shape: SpikeShape;
  load: OpenStep;
  /** The spike's arrivals on their own. */
  spike: OpenWindow;
  /** Of the spike's answers, the share refused 503 busy. */
  busyShare: number;
  /** Seconds after the spike until p99 was back at or under the objective for good (null: not within the phase). */
  recoverySeconds: number | null;
  audit: AuditResult;
};

/** The workload of a scenario on fresh conferences; `tag` keeps reservation ids unique per load. */
const planFor = (
  design: Design,
  scenario: CapacityScenario,
  ids: string[],
  tag: string,
  seed: number,
): WorkloadPlan => {
  const prefix = DESIGNS[design];
  const [first = '', ...rest] = ids;
  const idPrefix = `${design}-${scenario}-${tag}`;
  if (scenario === 'hotspot') return { kind: 'hotspot', prefix, hotId: first, quietIds: rest, idPrefix, seed };
  if (scenario === 'mixed') return { kind: 'mixed', prefix, conferenceId: first, idPrefix, seed };
  return { kind: 'booking', prefix, conferenceIds: ids, idPrefix, seed };
};

const conferenceIdsFor = (ctx: OpenContext, design: Design, scenario: CapacityScenario | 'spike') => {
  const count =
    scenario === 'spread'
      ? ctx.options.spreadConferences
      : scenario === 'hotspot'
        ? ctx.options.spreadConferences + 1
        : 1;
  return Array.from({ length: count }, (_, i) => `${ctx.runTag}-${design}-open-${scenario}-${i}`);
};

/** A small stable number from a text, to seed each load's arrivals and choices differently. */
const seedOf = (text: string) => [...text].reduce((hash, c) => (hash * 31 + c.charCodeAt(0)) >>> 0, 7);

/**
 * Runs one open load in the generator process and waits until the server has finished every
 * request, so the next load starts on a settled service. The CPU is read around the load.
 */
export const runLoad = async (
  ctx: OpenContext,
  load: {
    rate: number;
    segments: ScheduleSegment[];
    workload: WorkloadPlan;
    ledger: Ledger;
    bucketMs?: number;
    windows?: { name: string; fromMs: number; toMs: number }[];
    peakRate?: number;
  },
): Promise<OpenStep> => {
  const { open } = ctx.options;
  const peak = load.peakRate ?? load.rate;
  const connections = connectionsFor(peak, open.sloMs, open.connections);
  const before = ctx.cpuTimes?.();
  const { ledger, ...result } = await ctx.generator.drive({
    baseUrl: ctx.baseUrl,
    schedule: { segments: load.segments, spacing: open.spacing, seed: seedOf(JSON.stringify(load.workload)) },
    workload: load.workload,
    connections,
    maxWaiting: waitingFor(peak),
    timeoutMs: 30_000,
    limits: GENERATOR_LIMITS,
    ...(load.bucketMs ? { bucketMs: load.bucketMs } : {}),
    ...(load.windows ? { windows: load.windows } : {}),
  });
  const after = ctx.cpuTimes?.();
  load.ledger.absorb(ledger);
  await waitUntilIdle(metricsOf(ctx));
  return {
    ...result,
    rate: load.rate,
    connections,
    verdict: stepVerdict(result, open.sloMs),
    ...(before && after
      ? { cpu: cpuUse(before, after, result.seconds, { requests: result.answered, committed: result.committed }) }
      : {}),
  };
};

export const stepLine = (label: string, step: OpenStep) =>
  `${label} ${step.rate}/s: p99 ${step.latencyMs.all.p99} ms, max ${step.latencyMs.all.max} ms, ` +
  `201 ${step.statusCounts[201] ?? 0}, 409 ${step.statusCounts[409] ?? 0}, 503 ${step.statusCounts[503] ?? 0}, ` +
  `dropped ${step.dropped}, send lag p99 ${step.generator.sendLagMs.p99} ms: ` +
  (step.verdict.passed ? 'kept' : `missed (${step.verdict.reasons.join('; ')})`);

/**
 * A design's capacity at the objective: steps of the rate, each `stepSeconds` long, on fresh
 * conferences of more seats than any step can sell, searched by `nextRate`; then, if a
 * closed-loop phase of the scenario ran, one step at the rate it achieved. The audit runs after.
 */
export const capacityPhase = async (
  ctx: OpenContext,
  design: Design,
  scenario: CapacityScenario,
  closed: PhaseResult | undefined,
): Promise<CapacityResult> => {
  const { open } = ctx.options;
  // Spread and hotspot keep their many conferences from step to step; a scenario of one conference
  // takes a fresh one each step, so no step inherits the rows (or the dead row versions) of another.
  const perStep = scenario === 'surge' || scenario === 'mixed';
  const shared = conferenceIdsFor(ctx, design, scenario);
  const audited = perStep ? [] : shared;
  if (!perStep) await createConferences(ctx, design, shared, 10_000_000);
  const freshIds = async (tag: string) => {
    if (!perStep) return shared;
    const ids = shared.map((id) => `${id}-${tag}`);
    await createConferences(ctx, design, ids, 10_000_000);
    audited.push(...ids);
    return ids;
  };
  const ledger = new Ledger();
  const steps: OpenStep[] = [];
  const tried = () => steps.map((s) => ({ rate: s.rate, passed: s.verdict.passed }));
  for (let rate = nextRate([], open); rate !== undefined; rate = nextRate(tried(), open)) {
    const tag = `s${steps.length}`;
    const step = await runLoad(ctx, {
      rate,
      segments: [steady(rate, open.stepSeconds)],
      workload: planFor(design, scenario, await freshIds(tag), tag, seedOf(`${design}${scenario}${tag}`)),
      ledger,
    });
    console.log(stepLine(`${design} ${scenario} open`, step));
    steps.push(step);
  }
  const capacityAtSlo = capacityOf(tried());
  const lowestFail = steps.filter((s) => !s.verdict.passed).sort((a, b) => a.rate - b.rate)[0];
  let atClosedRate: OpenStep | undefined;
  if (closed && closed.requestsPerSecond > 0) {
    const rate = Math.round(closed.requestsPerSecond);
    atClosedRate = await runLoad(ctx, {
      rate,
      segments: [steady(rate, open.stepSeconds)],
      workload: planFor(
        design,
        scenario,
        await freshIds('closed-rate'),
        'closed-rate',
        seedOf(`${design}${scenario}closed`),
      ),
      ledger,
    });
    console.log(stepLine(`${design} ${scenario} open at the closed loop's rate`, atClosedRate));
  }
  return {
    design,
    scenario,
    sloMs: open.sloMs,
    capacityAtSlo,
    limitedByGenerator: lowestFail?.verdict.generatorLimited ?? false,
    steps,
    ...(closed
      ? {
          closed: {
            connections: closed.connections,
            requestsPerSecond: closed.requestsPerSecond,
            reservationsPerSecond: closed.reservationsPerSecond,
            p99: closed.latencyMs.all.p99,
          },
        }
      : {}),
    ...(atClosedRate ? { atClosedRate } : {}),
    audit: await audit(ctx.baseUrl, DESIGNS[design], audited, ledger),
  };
};

/**
 * The spike: the base rate, then the spike rate, then the base rate again, on one fresh
 * conference, in half-second steps; the spike's own answers, and how long p99 took to come back.
 */
export const spikePhase = async (ctx: OpenContext, design: Design, shape: SpikeShape): Promise<SpikeResult> => {
  const { open } = ctx.options;
  const ids = conferenceIdsFor(ctx, design, 'spike');
  await createConferences(ctx, design, ids, 10_000_000);
  const ledger = new Ledger();
  const spikeFromMs = shape.baseSeconds * 1000;
  const spikeToMs = spikeFromMs + shape.spikeSeconds * 1000;
  const load = await runLoad(ctx, {
    rate: shape.spikeRate,
    peakRate: shape.spikeRate,
    segments: spikeSegments(shape),
    workload: planFor(design, 'surge', ids, 'spike', seedOf(`${design}spike`)),
    ledger,
    bucketMs: 500,
    windows: [{ name: 'spike', fromMs: spikeFromMs, toMs: spikeToMs }],
  });
  const spike = load.windows.spike!;
  const answers = Object.values(spike.statusCounts).reduce((a, b) => a + b, 0);
  const result: SpikeResult = {
    design,
    sloMs: open.sloMs,
    shape,
    load,
    spike,
    busyShare: answers > 0 ? Math.round(((spike.statusCounts[503] ?? 0) / answers) * 10_000) / 10_000 : 0,
    recoverySeconds: recoverySeconds(load.timeline, spikeToMs / 1000, open.sloMs),
    audit: await audit(ctx.baseUrl, DESIGNS[design], ids, ledger),
  };
  console.log(
    `${design} spike ${shape.baseRate}/s → ${shape.spikeRate}/s → ${shape.baseRate}/s: admitted p99 ${spike.admittedLatencyMs.p99} ms, ` +
      `slowest ${load.latencyMs.all.max} ms, busy ${Math.round(result.busyShare * 1000) / 10}%, ` +
      `recovered after ${result.recoverySeconds ?? 'never'} s, ${result.audit.passed ? 'audit ok' : 'AUDIT FAILED'}`,
  );
  return result;
};
