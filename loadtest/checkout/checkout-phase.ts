import { getJson, listReservations, settledReservations, type Availability } from '../audit.js';
import { drive } from '../drive.js';
import { Ledger } from '../ledger.js';
import { DESIGNS, isCrud, type Design } from '../options.js';
import {
  createConferences,
  difference,
  summarise,
  metricsOf,
  type CpuReadings,
  type PhaseContext,
  type PhaseResult,
} from '../phases.js';
import { Recorder } from '../recorder.js';
import { sampleLag, scrapeCounters, waitUntilIdle } from '../server-metrics.js';
import { round } from '../stats.js';
import { checkoutAudit, toldOf } from './checkout-audit.js';
import { expiryLag, spreadOf, type CheckoutFigures } from './checkout-figures.js';
import { readCheckoutStore } from './checkout-store.js';
import { closedCheckout } from './closed-checkout.js';
import { buyWhatIsLeft } from './last-buyer.js';
import { checkoutVisitors } from './visitors.js';

/** How long after the last hold's due time the seats still held are read: the expirer's poll and a slow round. */
export const HELD_AT_END_AFTER_MS = 3000;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Seats still held once every hold is due: waits until the latest due time among the holds the
 * reservations page shows as held, plus HELD_AT_END_AFTER_MS, then reads the authoritative counts.
 */
export const seatsHeldOnceDue = async (baseUrl: string, prefix: string, conferenceId: string): Promise<number> => {
  await settledReservations(baseUrl);
  const pending = (await listReservations(baseUrl, prefix, conferenceId)).filter((r) => r.status === 'held');
  const lastDue = Math.max(Date.now(), ...pending.map((r) => Date.parse(r.expiresAt ?? '') || 0));
  await sleep(lastDue - Date.now() + HELD_AT_END_AFTER_MS);
  const { seatTypes } = await getJson<Availability>(
    `${baseUrl}${prefix}/${conferenceId}/availability?consistency=strong`,
  );
  return seatTypes.reduce((sum, s) => sum + (s.held ?? 0), 0);
};

/**
 * After a checkout's load, once the server has finished every request: the seats still held once
 * every hold is due, the last buyer, then the store read and audited, and the expiry lag of every
 * expired hold.
 */
export const settleCheckout = async (baseUrl: string, design: Design, conferenceId: string, ledger: Ledger) => {
  const prefix = DESIGNS[design];
  const seatsHeldAtEnd = await seatsHeldOnceDue(baseUrl, prefix, conferenceId);
  const lastBuyerSeats = await buyWhatIsLeft(baseUrl, prefix, conferenceId, ledger);
  const store = await readCheckoutStore(baseUrl, prefix, conferenceId, !isCrud(design));
  return {
    figures: { expiryLagMs: expiryLag(store.reservations), seatsHeldAtEnd, lastBuyerSeats },
    audit: checkoutAudit(store, toldOf(ledger, conferenceId)),
    store,
  };
};

/**
 * The checkout on one conference of `--capacity` seats, in the closed model (see closedCheckout):
 * visitors for `--duration` seconds, measured from the start (a ramp would sell the seats
 * unmeasured). Then, once every hold is due, the seats still held; the last buyer takes what is
 * left; and the checkout audit reads the store.
 */
export const checkoutPhase = async (ctx: PhaseContext, design: Design, connections: number): Promise<PhaseResult> => {
  const { capacity, holdSeconds, durationSeconds, requests } = ctx.options;
  const { baseUrl } = ctx;
  const prefix = DESIGNS[design];
  const conferenceId = `${ctx.runTag}-${design}-checkout-c${connections}`;
  await createConferences(ctx, design, [conferenceId], capacity);
  const ledger = new Ledger();
  const recorder = new Recorder();
  const visitors = checkoutVisitors({
    prefix,
    conferenceId,
    idPrefix: `${design}-checkout-${connections}`,
    seed: connections + 25,
    holdSeconds,
  });
  const checkout = closedCheckout(visitors);
  const before = await scrapeCounters(metricsOf(ctx));
  recorder.hold();
  const sampler = sampleLag(metricsOf(ctx), recorder);
  const cpu: CpuReadings = { before: ctx.cpuTimes?.(), after: undefined };
  const started = performance.now();
  try {
    await drive({
      baseUrl,
      connections,
      ...(requests ? { amount: requests } : { durationSeconds }),
      workload: checkout.next,
      recorder,
      ledger,
      title: `${design} checkout c=${connections}`,
      onAnswer: checkout.answered,
    });
    cpu.after = ctx.cpuTimes?.();
  } finally {
    await sampler.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  await waitUntilIdle(metricsOf(ctx));
  const server = difference(await scrapeCounters(metricsOf(ctx)), before);
  const settled = await settleCheckout(baseUrl, design, conferenceId, ledger);
  const result = summarise(
    { design, scenario: 'checkout', phase: 'checkout', connections },
    recorder,
    seconds,
    server,
    cpu,
  );
  const holds = recorder.ofKind('hold');
  const figures: CheckoutFigures = {
    capacity,
    holdSeconds,
    holdsPerSecond: round((holds.statusCounts[201] ?? 0) / seconds),
    confirmedPerSecond: result.reservationsPerSecond,
    holds,
    confirms: recorder.ofKind('confirm'),
    releases: recorder.ofKind('release'),
    ...settled.figures,
    thinkingAtStop: checkout.thinking(),
    followUpLateMs: spreadOf(checkout.lateMs()),
  };
  return { ...result, checkout: figures, audit: settled.audit };
};
