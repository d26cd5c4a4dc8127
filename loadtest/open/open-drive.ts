import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';
import { Ledger, noteAnswer, type LedgerRecord } from '../ledger.js';
import { round } from '../stats.js';
import { workloadOf, type PlannedRequest, type WorkloadPlan } from '../workloads.js';
import { arrivalTimes, scheduleSeconds, type Schedule } from './schedule.js';

/** What an open load needs: the schedule of arrivals, the requests, and the generator's limits. */
export type OpenLoadOptions = {
  baseUrl: string;
  schedule: Schedule;
  workload: WorkloadPlan;
  /** Connections the generator may open; an arrival that finds them all busy waits for one. */
  connections: number;
  /** Arrivals that may wait for a connection; an arrival beyond them is dropped (and counted). */
  maxWaiting: number;
  /** An answer that takes longer is an error. */
  timeoutMs: number;
  /** Beyond these the generator could not drive the schedule, and the load is marked invalid. */
  limits: GeneratorLimits;
};

export type GeneratorLimits = {
  /** Most a request may leave after its intended start, at p99, ms. */
  sendLagP99Ms: number;
  /** Least share of the offered rate the generator must issue (0.98: 2% short at most). */
  achievedShare: number;
};

export const GENERATOR_LIMITS: GeneratorLimits = { sendLagP99Ms: 5, achievedShare: 0.98 };

/** Latency percentiles, ms, from the intended start of each request. */
export type OpenPercentiles = { p50: number; p90: number; p99: number; p999: number; max: number; count: number };

/** One second of the schedule, by intended start: what was offered and how it was answered. */
export type OpenSecond = {
  second: number;
  offered: number;
  dropped: number;
  errors: number;
  statusCounts: Record<string, number>;
  /** p99 of the answers to this second's arrivals, ms; 0 when none was answered. */
  p99: number;
};

export type GeneratorHealth = {
  /** How late requests left against the schedule, ms. */
  sendLagMs: { p50: number; p99: number; max: number };
  /** The generator's own event-loop delay over the load, ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Whether the generator kept to the schedule; if not, `problems` say how, and the load's figures are not to be quoted. */
  valid: boolean;
  problems: string[];
};

export type OpenLoadResult = {
  /** Seconds the schedule lasts. */
  seconds: number;
  offered: number;
  offeredRate: number;
  /** Arrivals issued (sent, or dropped) per second, over the schedule or as long as issuing took. */
  achievedRate: number;
  sent: number;
  answered: number;
  /** Arrivals that found `maxWaiting` others already waiting for a connection: never sent. */
  dropped: number;
  /** Requests with no HTTP answer: connection errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
  committed: number;
  latencyMs: { all: OpenPercentiles; committed: OpenPercentiles };
  generator: GeneratorHealth;
  timeline: OpenSecond[];
  ledger: LedgerRecord;
};

/** Latencies are recorded in microseconds, from 1 µs up to 10 minutes, to 3 significant figures. */
const newHistogram = () => createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });
const recordMs = (histogram: RecordableHistogram, ms: number) =>
  histogram.record(Math.min(600_000_000, Math.max(1, Math.round(ms * 1000))));
const msAt = (histogram: RecordableHistogram, percentile: number) =>
  histogram.count === 0 ? 0 : round(histogram.percentile(percentile) / 1000, 2);
const percentilesOf = (histogram: RecordableHistogram): OpenPercentiles => ({
  p50: msAt(histogram, 50),
  p90: msAt(histogram, 90),
  p99: msAt(histogram, 99),
  p999: msAt(histogram, 99.9),
  max: histogram.count === 0 ? 0 : round(histogram.max / 1000, 2),
  count: histogram.count,
});

/** Whether the generator kept to its schedule; the reasons it did not. */
export const generatorProblems = (
  limits: GeneratorLimits,
  sendLagP99Ms: number,
  offeredRate: number,
  achievedRate: number,
): string[] => [
  ...(sendLagP99Ms > limits.sendLagP99Ms
    ? [`send lag p99 ${sendLagP99Ms} ms over ${limits.sendLagP99Ms} ms: the generator fell behind its schedule`]
    : []),
  ...(achievedRate < offeredRate * limits.achievedShare
    ? [
        `issued ${achievedRate}/s of ${offeredRate}/s offered (under ${Math.round(limits.achievedShare * 100)}%): the generator could not keep the rate`,
      ]
    : []),
];

type SecondBucket = { offered: number; dropped: number; errors: number; statusCounts: Record<string, number> };

/**
 * Drives an open load: each arrival is issued at its intended time whatever the service is doing,
 * and its latency is taken from that intended time, so a stall shows up as the wait it caused
 * (no coordinated omission, and nothing to correct afterwards). An arrival that finds every
 * connection busy waits in the pool's queue, and that wait counts; past `maxWaiting` it is dropped.
 */
export const driveOpenLoad = async (options: OpenLoadOptions): Promise<OpenLoadResult> => {
  const times = arrivalTimes(options.schedule);
  const seconds = scheduleSeconds(options.schedule);
  const ledger = new Ledger();
  const workload = workloadOf(options.workload, ledger);
  const pool = new Pool(options.baseUrl, {
    connections: options.connections,
    pipelining: 1,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const all = newHistogram();
  const committed = newHistogram();
  const sendLag = newHistogram();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  const buckets = new Map<number, SecondBucket>();
  const secondHistograms = new Map<number, RecordableHistogram>();
  const statusCounts: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let dropped = 0;
  let errors = 0;
  /** Requests sent and not answered yet: those on a connection and those waiting for one. */
  let outstanding = 0;
  const bucketOf = (second: number) => {
    let bucket = buckets.get(second);
    if (!bucket) buckets.set(second, (bucket = { offered: 0, dropped: 0, errors: 0, statusCounts: {} }));
    return bucket;
  };

  const answered = (planned: PlannedRequest, status: number, intended: number, bucket: SecondBucket) => {
    const latency = performance.now() - startedAt - intended;
    noteAnswer(ledger, planned, status);
    recordMs(all, latency);
    if (planned.kind === 'reserve' && status === 201) recordMs(committed, latency);
    const second = Math.floor(intended / 1000);
    let histogram = secondHistograms.get(second);
    if (!histogram) secondHistograms.set(second, (histogram = newHistogram()));
    recordMs(histogram, latency);
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    bucket.statusCounts[status] = (bucket.statusCounts[status] ?? 0) + 1;
  };

  const issue = (intended: number, now: number) => {
    recordMs(sendLag, now - intended);
    const bucket = bucketOf(Math.floor(intended / 1000));
    bucket.offered++;
    if (outstanding >= options.connections + options.maxWaiting) {
      dropped++;
      bucket.dropped++;
      return;
    }
    const planned = workload();
    ledger.sent(planned);
    outstanding++;
    sent++;
    const request = pool
      .request({
        path: planned.path,
        method: planned.method,
        ...(planned.body ? { body: planned.body, headers: { 'content-type': 'application/json' } } : {}),
      })
      .then(
        async ({ statusCode, body }) => {
          await body.dump();
          answered(planned, statusCode, intended, bucket);
        },
        () => {
          errors++;
          bucket.errors++;
        },
      )
      .finally(() => {
        outstanding--;
        pending.delete(request);
      });
    pending.add(request);
  };

  loopDelay.enable();
  const startedAt = performance.now();
  let next = 0;
  // Wakes at the next arrival's time and issues every arrival that is due; a late wake issues
  // them all at once, and their send lag says so.
  await new Promise<void>((done) => {
    const wake = () => {
      const now = performance.now() - startedAt;
      for (; next < times.length && times[next]! <= now; next++) issue(times[next]!, now);
      if (next >= times.length) return done();
      setTimeout(wake, Math.max(0, times[next]! - (performance.now() - startedAt)));
    };
    wake();
  });
  const issuingSeconds = Math.max(seconds, (performance.now() - startedAt) / 1000);
  while (pending.size > 0) await Promise.allSettled([...pending]);
  loopDelay.disable();
  await pool.close();

  const offeredRate = round(times.length / seconds, 1);
  const achievedRate = round(times.length / issuingSeconds, 1);
  const sendLagP99 = msAt(sendLag, 99);
  const problems = generatorProblems(options.limits, sendLagP99, offeredRate, achievedRate);
  const delay = (percentile: number) => round(loopDelay.percentile(percentile) / 1e6, 2);
  return {
    seconds,
    offered: times.length,
    offeredRate,
    achievedRate,
    sent,
    answered: all.count,
    dropped,
    errors,
    statusCounts,
    committed: committed.count,
    latencyMs: { all: percentilesOf(all), committed: percentilesOf(committed) },
    generator: {
      sendLagMs: { p50: msAt(sendLag, 50), p99: sendLagP99, max: round(sendLag.max / 1000, 2) },
      eventLoopDelayMs: { p50: delay(50), p99: delay(99), max: round(loopDelay.max / 1e6, 2) },
      valid: problems.length === 0,
      problems,
    },
    timeline: Array.from({ length: Math.ceil(seconds) }, (_, second) => {
      const bucket = buckets.get(second) ?? { offered: 0, dropped: 0, errors: 0, statusCounts: {} };
      const histogram = secondHistograms.get(second);
      return { second, ...bucket, p99: histogram ? msAt(histogram, 99) : 0 };
    }),
    ledger: ledger.toRecord(),
  };
};
