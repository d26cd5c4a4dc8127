import { checkoutPhase } from '../checkout/checkout-phase.js';
import { openCheckoutPhase, visitorRateOf, type OpenCheckoutResult } from '../checkout/open-checkout.js';
import { Ledger } from '../ledger.js';
import { isCrud } from '../options.js';
import { ceilingPhase, metricsOf, mixedPhase, throughputPhase, type PhaseResult } from '../phases.js';
import { waitUntilIdle } from '../server-metrics.js';
import {
  capacityPhase,
  runLoad,
  spikePhase,
  stepLine,
  type CapacityResult,
  type OpenContext,
  type OpenStep,
  type SpikeResult,
} from './open-phases.js';
import { GENERATOR_LIMITS } from './open-load.js';
import { steady, type SpikeShape } from './schedule.js';

/** Whether the generator could offer well over what the service took: an open load against the HTTP ceiling. */
export type GeneratorCheck = { rate: number; reason: string; step: OpenStep };

/**
 * An unmeasured open load against the HTTP ceiling, so the generator process has compiled and
 * optimised its code before the first step (its first second otherwise falls behind its schedule).
 */
const warmUpGenerator = async (ctx: OpenContext): Promise<void> => {
  await ctx.generator.drive({
    baseUrl: ctx.baseUrl,
    schedule: {
      segments: [ctx.options.quick ? steady(200, 1) : { rate: 100, toRate: 2000, seconds: 5 }],
      spacing: 'poisson',
      seed: 1,
    },
    workload: { kind: 'ceiling' },
    connections: 200,
    maxWaiting: 1000,
    timeoutMs: 30_000,
    limits: GENERATOR_LIMITS,
  });
  await waitUntilIdle(metricsOf(ctx));
};

/** An open load against the HTTP ceiling at `rate`: whether the generator kept its schedule there. */
const generatorCheck = async (ctx: OpenContext, rate: number, reason: string): Promise<GeneratorCheck> => {
  const step = await runLoad(ctx, {
    rate,
    segments: [steady(rate, ctx.options.open.stepSeconds)],
    workload: { kind: 'ceiling' },
    ledger: new Ledger(),
  });
  console.log(stepLine('generator check, http ceiling', step));
  return { rate, reason, step };
};

/** What the open model found in one run. */
export type OpenReport = {
  sloMs: number;
  spacing: string;
  /** How the generator process was scheduled (see GeneratorPriority). */
  generatorScheduling: string;
  capacity: CapacityResult[];
  generatorCheck?: GeneratorCheck;
  spikes: SpikeResult[];
  /** The checkout with visitors arriving at the rate its closed-loop phase served them. */
  checkout: OpenCheckoutResult[];
};

/**
 * The spike's rates: as given, or 3× the strongest CRUD's capacity at the objective in this run,
 * from a base of half that capacity.
 */
const spikeShapeFor = (ctx: OpenContext, capacity: CapacityResult[]): SpikeShape => {
  const { open } = ctx.options;
  const crud = Math.max(0, ...capacity.filter((c) => isCrud(c.design)).map((c) => c.capacityAtSlo));
  const spikeRate = open.spikeRate ?? 3 * crud;
  if (spikeRate <= 0) throw new Error('the spike needs --spike-rate, or a CRUD design whose capacity this run found');
  return {
    spikeRate,
    baseRate: open.baseRate ?? Math.max(1, Math.round(open.spikeRate === undefined ? crud / 2 : spikeRate / 6)),
    baseSeconds: open.spikeSeconds.base,
    spikeSeconds: open.spikeSeconds.spike,
    recoverySeconds: open.spikeSeconds.recovery,
  };
};

const openCheckoutLine = ({ design, rate, load, checkout: c, audit }: OpenCheckoutResult) =>
  `${design} checkout open ${rate} visitors/s: ${c.confirmedPerSecond} confirmed/s` +
  (load.cpu?.microsecondsPerCommitted ? `, server CPU ${load.cpu.microsecondsPerCommitted.server} µs/confirmed` : '') +
  `, ${c.holdsPerSecond} holds/s, ` +
  `hold p50/p99 ${c.holds.latencyMs.p50}/${c.holds.latencyMs.p99} ms, confirm p50/p99 ${c.confirms.latencyMs.p50}/${c.confirms.latencyMs.p99} ms, ` +
  `expiry lag p50/p99/max ${c.expiryLagMs.p50}/${c.expiryLagMs.p99}/${c.expiryLagMs.max} ms, held at end ${c.seatsHeldAtEnd}, ` +
  `dropped ${load.dropped}, send lag p99 ${load.generator.sendLagMs.p99} ms, ${audit.passed ? 'audit ok' : 'AUDIT FAILED'}`;

/**
 * The open model: the HTTP ceiling and, per scenario and design, the closed-loop phase (for the
 * same rate measured both ways) and the capacity search; then the generator's check at 1.5× the
 * best capacity found, and the spike for every design; then the checkout for every design, in the
 * closed loop and with visitors arriving at the rate the closed loop served them.
 */
export const runOpenModel = async (ctx: OpenContext, record: (result: PhaseResult) => void): Promise<OpenReport> => {
  const { options } = ctx;
  const [connections = 64] = options.connections;
  record(await ceilingPhase(ctx, connections));
  await warmUpGenerator(ctx);
  const capacity: CapacityResult[] = [];
  for (const scenario of options.scenarios) {
    if (scenario === 'spike' || scenario === 'checkout') continue;
    for (const design of options.designs) {
      const closed =
        scenario === 'mixed'
          ? await mixedPhase(ctx, design, connections)
          : await throughputPhase(ctx, design, scenario, connections);
      record(closed);
      capacity.push(await capacityPhase(ctx, design, scenario, closed));
    }
  }
  const best =
    capacity.find((c) => c.design === 'es-batched' && c.scenario === 'surge') ??
    [...capacity].sort((a, b) => b.capacityAtSlo - a.capacityAtSlo)[0];
  const check =
    best && best.capacityAtSlo > 0
      ? await generatorCheck(
          ctx,
          Math.round(best.capacityAtSlo * 1.5),
          `1.5× ${best.design}'s ${best.scenario} capacity`,
        )
      : undefined;
  const spikes: SpikeResult[] = [];
  if (options.scenarios.includes('spike')) {
    const shape = spikeShapeFor(ctx, capacity);
    for (const design of options.designs) spikes.push(await spikePhase(ctx, design, shape));
  }
  const checkout: OpenCheckoutResult[] = [];
  if (options.scenarios.includes('checkout')) {
    for (const design of options.designs) {
      const closed = await checkoutPhase(ctx, design, connections);
      record(closed);
      const result = await openCheckoutPhase(ctx, design, visitorRateOf(closed));
      console.log(openCheckoutLine(result));
      checkout.push(result);
    }
  }
  return {
    sloMs: options.open.sloMs,
    spacing: options.open.spacing,
    generatorScheduling: ctx.generator.scheduling(),
    capacity,
    ...(check ? { generatorCheck: check } : {}),
    spikes,
    checkout,
  };
};
