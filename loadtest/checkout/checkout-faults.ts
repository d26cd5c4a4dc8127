import type { AuditResult, Listed } from '../audit.js';
import { drive } from '../drive.js';
import { Ledger } from '../ledger.js';
import { DESIGNS, type Design } from '../options.js';
import { createConferences } from '../phases.js';
import { Recorder } from '../recorder.js';
import type { StartedServer } from '../server.js';
import { waitUntilIdle } from '../server-metrics.js';
import { round } from '../stats.js';
import type { Spread } from './checkout-figures.js';
import { settleCheckout } from './checkout-phase.js';
import { closedCheckout } from './closed-checkout.js';
import { checkoutVisitors } from './visitors.js';

/** The longest a hold that fell due while the API was down may stay unexpired after the restart. */
export const EXPIRED_AFTER_RESTART_MS = 5000;

/** One kill of the API during the checkout, and how the holds it kept from expiring fared. */
export type CheckoutOutage = {
  repeat: number;
  /** When the API was killed, and when its restart answered /healthz again (ISO times). */
  killedAt: string;
  restartedAt: string;
  outageSeconds: number;
  /** Holds due before the restart that were still pending at the kill: the outage kept them from expiring. */
  dueDuringOutage: number;
  /** Of those, the latest `expiredAt − max(expiresAt, restartedAt)`, ms; null when none fell due. */
  expiredAfterRestartMaxMs: number | null;
  passed: boolean;
};

/** A checkout with the API killed and restarted while visitors hold, confirm and release. */
export type CheckoutFaultRun = {
  design: Design;
  connections: number;
  outages: CheckoutOutage[];
  /** Holds answered 201, and confirms answered 200. */
  holdsAcknowledged: number;
  confirmsAcknowledged: number;
  /** Acknowledged holds and confirms the store does not hold as their visitors were told. */
  lost: number;
  /** Seat types over capacity, in the counts or at any version of the stream. */
  oversold: number;
  /** Requests in flight at a kill that the store shows carried out (their outcome taken from it). */
  committedWithoutAnswer: number;
  seatsHeldAtEnd: number;
  expiryLagMs: Spread;
  audit: AuditResult;
  passed: boolean;
};

export type CheckoutFaultOptions = {
  design: Design;
  connections: number;
  repeats: number;
  capacity: number;
  holdSeconds: number;
  /** Load before the first kill, and after each restart. */
  steadySeconds: number;
  runTag: string;
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * How long after the restart the holds the outage kept from expiring were expired: those due
 * before the restart and still pending at the kill (expired at or after it), each measured as
 * `expiredAt − max(expiresAt, restartedAt)`.
 */
export const expiredAfterRestart = (
  reservations: Listed[],
  killedAt: number,
  restartedAt: number,
): { due: number; maxMs: number | null } => {
  const lags = reservations.flatMap(({ status, expiresAt, expiredAt }) => {
    const [due, expired] = [Date.parse(expiresAt ?? ''), Date.parse(expiredAt ?? '')];
    if (status !== 'expired' || !(due < restartedAt) || !(expired >= killedAt)) return [];
    return [expired - Math.max(due, restartedAt)];
  });
  return { due: lags.length, maxMs: lags.length > 0 ? Math.max(...lags) : null };
};

/**
 * The checkout (closed model) on one design with the API killed (`kill -9`) and restarted
 * `repeats` times, steady load before and after each. A request that got no answer, or a 5xx
 * other than busy, has its outcome taken from the store. Afterwards the checkout's own end: seats
 * held once every hold is due, the last buyer, the checkout audit (nothing acknowledged lost,
 * nothing oversold, at every version of the stream too); and for each kill, how soon after the
 * restart the holds it kept from expiring were expired. `supervised.server` is kept current for
 * the caller to stop, also when the run fails.
 */
export const checkoutFaultRun = async (
  supervised: { server: StartedServer },
  options: CheckoutFaultOptions,
): Promise<CheckoutFaultRun> => {
  const { design, connections, capacity, holdSeconds, runTag } = options;
  const prefix = DESIGNS[design];
  const { baseUrl } = supervised.server;
  const conferenceId = `${runTag}-${design}-checkout-kill-api`;
  await createConferences({ baseUrl }, design, [conferenceId], capacity);
  const ledger = new Ledger();
  const checkout = closedCheckout(
    checkoutVisitors({ prefix, conferenceId, idPrefix: `${design}-kill`, seed: 13, holdSeconds }),
  );
  let finish: () => void = () => {};
  const load = drive({
    baseUrl,
    connections,
    durationSeconds: 3600,
    workload: checkout.next,
    recorder: new Recorder(),
    ledger,
    title: `${design} checkout, kill-api c=${connections}`,
    until: new Promise<void>((done) => (finish = done)),
    unknownOutcomeOn5xx: true,
    onAnswer: checkout.answered,
  });
  const kills: { repeat: number; killedAt: number; restartedAt: number }[] = [];
  try {
    await sleep(options.steadySeconds * 1000);
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      await supervised.server.kill();
      const killedAt = Date.now();
      supervised.server = await supervised.server.restart();
      kills.push({ repeat, killedAt, restartedAt: Date.now() });
      console.log(`  kill-api #${repeat}: back after ${round((Date.now() - killedAt) / 1000, 2)} s`);
      await sleep(options.steadySeconds * 1000);
    }
  } finally {
    finish();
    await load.catch(() => undefined);
  }
  await waitUntilIdle(supervised.server.baseUrl);
  const settled = await settleCheckout(supervised.server.baseUrl, design, conferenceId, ledger);
  const outages = kills.map(({ repeat, killedAt, restartedAt }): CheckoutOutage => {
    const { due, maxMs } = expiredAfterRestart(settled.store.reservations, killedAt, restartedAt);
    return {
      repeat,
      killedAt: new Date(killedAt).toISOString(),
      restartedAt: new Date(restartedAt).toISOString(),
      outageSeconds: round((restartedAt - killedAt) / 1000, 2),
      dueDuringOutage: due,
      expiredAfterRestartMaxMs: maxMs,
      passed: maxMs === null || maxMs <= EXPIRED_AFTER_RESTART_MS,
    };
  });
  const holds = [...ledger.holds(conferenceId).values()];
  const { audit } = settled;
  return {
    design,
    connections,
    outages,
    holdsAcknowledged: holds.length,
    confirmsAcknowledged: holds.filter((h) => h.told === 'confirmed').length,
    lost: audit.counts.missing,
    oversold: audit.counts.oversold,
    committedWithoutAnswer: audit.adopted,
    seatsHeldAtEnd: settled.figures.seatsHeldAtEnd,
    expiryLagMs: settled.figures.expiryLagMs,
    audit,
    passed: audit.passed && outages.every((o) => o.passed),
  };
};

/** The checkout fault run's table, one row per kill of the API. */
export const checkoutFaultTable = (run: CheckoutFaultRun) => ({
  title: `Checkout under kill-api: ${run.design}, ${run.connections} connections`,
  header: [
    'kill',
    'outage s',
    'holds due in the outage',
    `expired after restart, max ms (≤ ${EXPIRED_AFTER_RESTART_MS})`,
    'holds acknowledged (201)',
    'confirms acknowledged (200)',
    'lost',
    'oversold',
    'committed without answer',
    'held at end',
    'audit',
  ],
  rows: run.outages.map((o) => [
    `kill-api #${o.repeat}`,
    o.outageSeconds,
    o.dueDuringOutage,
    o.expiredAfterRestartMaxMs ?? 'none due',
    run.holdsAcknowledged,
    run.confirmsAcknowledged,
    run.lost,
    run.oversold,
    run.committedWithoutAnswer,
    run.seatsHeldAtEnd,
    run.audit.passed && o.passed ? 'ok' : 'FAILED',
  ]),
});
