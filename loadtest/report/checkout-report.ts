import type { OpenCheckoutResult } from '../checkout/open-checkout.js';
import { designLabel, type PhaseResult } from '../phases.js';
import { serverCpuPerCommitted, statusCount } from './markdown.js';

const auditCell = (r: PhaseResult) =>
  r.audit
    ? r.audit.passed
      ? 'pass'
      : `FAIL: ${r.audit.checks
          .filter((c) => !c.passed)
          .map((c) => c.check)
          .join(', ')}`
    : '-';

/** Statuses of one kind of request, as `201/409/503`. */
const statuses = (counts: Record<string, number>, codes: string[]) =>
  codes.map((code) => statusCount(counts, code)).join('/');

/**
 * The checkout's table, one row per design and connection count: confirms and holds per second,
 * the server's CPU per confirmed reservation, the latencies of holds and of confirms, the expiry lag of the holds that expired, the seats
 * still held once every hold was due, the answers by kind, and the server's version conflicts
 * and retries exhausted (a 503 busy each) over the load.
 */
export const checkoutTable = (rows: PhaseResult[]) => ({
  title: 'checkout',
  header: [
    'design',
    'conns',
    'confirmed/s',
    'server CPU µs/confirmed',
    'holds/s',
    'hold p50 ms',
    'hold p99 ms',
    'confirm p50 ms',
    'confirm p99 ms',
    'expiry lag p50/p99/max ms',
    'expired',
    'held at end',
    'holds 201/409/503',
    'confirms 200/409/503',
    'releases 200/409/503',
    'follow-up late p99 ms',
    'last buyer seats',
    'conflicts',
    'exhausted',
    'errors',
    'audit',
  ],
  rows: rows.flatMap((r) => {
    const c = r.checkout;
    if (!c) return [];
    const lag = c.expiryLagMs;
    return [
      [
        designLabel(r),
        r.connections,
        c.confirmedPerSecond,
        serverCpuPerCommitted(r.cpu),
        c.holdsPerSecond,
        c.holds.latencyMs.p50,
        c.holds.latencyMs.p99,
        c.confirms.latencyMs.p50,
        c.confirms.latencyMs.p99,
        `${lag.p50}/${lag.p99}/${lag.max}`,
        lag.count,
        c.seatsHeldAtEnd,
        statuses(c.holds.statusCounts, ['201', '409', '503']),
        statuses(c.confirms.statusCounts, ['200', '409', '503']),
        statuses(c.releases.statusCounts, ['200', '409', '503']),
        c.followUpLateMs?.p99 ?? '-',
        c.lastBuyerSeats,
        r.server.versionConflicts,
        r.server.retriesExhausted,
        r.errors,
        auditCell(r),
      ],
    ];
  }),
});

/**
 * The checkout in the open model, one row per design: visitors offered per second (the closed
 * loop's rate) and how the generator kept it, then the same figures as the closed model's table,
 * every latency from when its request was due.
 */
export const openCheckoutTable = (results: OpenCheckoutResult[]) => ({
  title: 'checkout, open model (visitors at the closed loop’s rate)',
  header: [
    'design',
    'visitors/s offered',
    'issued/s',
    'confirmed/s',
    'server CPU µs/confirmed',
    'holds/s',
    'hold p50 ms',
    'hold p99 ms',
    'confirm p50 ms',
    'confirm p99 ms',
    'expiry lag p50/p99/max ms',
    'expired',
    'held at end',
    'holds 201/409/503',
    'confirms 200/409/503',
    'dropped',
    'errors',
    'send lag p99 ms',
    'audit',
  ],
  rows: results.map(({ design, rate, load, checkout: c, audit }) => [
    design,
    rate,
    load.achievedRate,
    c.confirmedPerSecond,
    serverCpuPerCommitted(load.cpu),
    c.holdsPerSecond,
    c.holds.latencyMs.p50,
    c.holds.latencyMs.p99,
    c.confirms.latencyMs.p50,
    c.confirms.latencyMs.p99,
    `${c.expiryLagMs.p50}/${c.expiryLagMs.p99}/${c.expiryLagMs.max}`,
    c.expiryLagMs.count,
    c.seatsHeldAtEnd,
    statuses(c.holds.statusCounts, ['201', '409', '503']),
    statuses(c.confirms.statusCounts, ['200', '409', '503']),
    load.dropped,
    load.errors,
    load.generator.sendLagMs.p99,
    audit.passed ? 'pass' : 'FAIL',
  ]),
});
