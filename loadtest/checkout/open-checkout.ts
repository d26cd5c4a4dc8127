import type { AuditResult } from '../audit.js';
import { Ledger } from '../ledger.js';
import { DESIGNS, type Design } from '../options.js';
import { runLoad, type OpenContext, type OpenStep } from '../open/open-phases.js';
import { steady } from '../open/schedule.js';
import { createConferences, type PhaseResult } from '../phases.js';
import type { KindFigures } from '../recorder.js';
import { round } from '../stats.js';
import type { CheckoutFigures } from './checkout-figures.js';
import { settleCheckout } from './checkout-phase.js';

/** The checkout in the open model: visitors arriving at a rate, one design. */
export type OpenCheckoutResult = {
  design: Design;
  /** Visitors offered per second: the rate at which the closed loop's visitors came. */
  rate: number;
  load: OpenStep;
  checkout: CheckoutFigures;
  audit: AuditResult;
};

/** Visitors per second in a closed checkout phase: its holds answered per second. */
export const visitorRateOf = (closed: PhaseResult): number =>
  Math.max(1, Math.round((closed.checkout?.holds.latencyMs.count ?? 0) / closed.durationSeconds));

const none: KindFigures = { latencyMs: { p50: 0, p90: 0, p99: 0, max: 0, count: 0 }, statusCounts: {} };

/**
 * The checkout with visitors arriving at `rate` per second for `--duration` seconds, whatever the
 * service does (Poisson arrivals, as the open model's other loads): each visitor's follow-up goes
 * out when its think time is over, and every latency counts from when the request was due (see
 * driveOpenLoad). The load ends when the last visitor has finished; then the same end as in the
 * closed model: seats held once every hold is due, the last buyer, the checkout audit.
 */
export const openCheckoutPhase = async (
  ctx: OpenContext,
  design: Design,
  rate: number,
): Promise<OpenCheckoutResult> => {
  const { capacity, holdSeconds, durationSeconds } = ctx.options;
  const prefix = DESIGNS[design];
  const conferenceId = `${ctx.runTag}-${design}-open-checkout`;
  await createConferences(ctx, design, [conferenceId], capacity);
  const ledger = new Ledger();
  const load = await runLoad(ctx, {
    rate,
    segments: [steady(rate, durationSeconds)],
    workload: {
      kind: 'checkout',
      visitors: { prefix, conferenceId, idPrefix: `${design}-open-checkout`, seed: rate, holdSeconds },
    },
    ledger,
  });
  const settled = await settleCheckout(ctx.baseUrl, design, conferenceId, ledger);
  const holds = load.byKind.hold ?? none;
  const checkout: CheckoutFigures = {
    capacity,
    holdSeconds,
    holdsPerSecond: round((holds.statusCounts[201] ?? 0) / load.seconds),
    confirmedPerSecond: round(load.committed / load.seconds),
    holds,
    confirms: load.byKind.confirm ?? none,
    releases: load.byKind.release ?? none,
    ...settled.figures,
  };
  return { design, rate, load, checkout, audit: settled.audit };
};
