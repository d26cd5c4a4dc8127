import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
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
  /** Length of each step of the timeline, ms (default 1000). */
  bucketMs?: number;
  /** Parts of the schedule summarised on their own (by intended start), such as a spike. */
  windows?: { name: string; fromMs: number; toMs: number }[];
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

/** What a part of the schedule offered, by intended start, and how it was answered. */
type Tally = { offered: number; dropped: number; errors: number; statusCounts: Record<string, number> };

/** One step of the timeline (a second by default), by intended start. */
export type OpenBucket = Tally & {
  /** Where the step begins, seconds from the schedule's start. */
  atSecond: number;
  /** p99 of the answers to this step's arrivals, ms, and of those not refused busy (503); 0 when none. */
  p99: number;
  p99Admitted: number;
};

/** A window of the schedule on its own: its latencies, of all answers and of those not refused busy. */
export type OpenWindow = Tally & { latencyMs: OpenPercentiles; admittedLatencyMs: OpenPercentiles };

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
  timeline: OpenBucket[];
  windows: Record<string, OpenWindow>;
  ledger: LedgerRecord;
};

/** How often the generator's event-loop delay is sampled, ms. */
const LOOP_RESOLUTION_MS = 5;

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

/** A tally with its latencies, while the load runs. */
type Recording = Tally & { all: RecordableHistogram; admitted: RecordableHistogram };
const newRecording = (): Recording => ({
  offered: 0,
  dropped: 0,
  errors: 0,
  statusCounts: {},
  all: newHistogram(),
  admitted: newHistogram(),
});
const tallyOf = ({ offered, dropped, errors, statusCounts }: Recording): Tally => ({
  offered,
  dropped,
  errors,
  statusCounts,
});

/**
 * Drives an open load: each arrival is issued at its intended time whatever the service is doing,
 * and its latency is taken from that intended time, so a stall shows up as the wait it caused
 * (no coordinated omission, and nothing to correct afterwards). An arrival that finds all its
 * `connections` busy waits in the generator's queue, and that wait counts; past `maxWaiting` it
 * is dropped. `kept`: connections kept from earlier loads (else it opens and closes its own).
 */
/** Most connections a load may use (see connectionsFor). */
export const MOST_CONNECTIONS = 4096;

/**
 * Connections to the service, opened as arrivals need them and kept between loads (a load that
 * begins by opening hundreds of connections measures that, not the service). Each load bounds
 * how many it uses at once itself.
 */
export const openConnections = (baseUrl: string, timeoutMs: number): Pool =>
  new Pool(baseUrl, {
    connections: MOST_CONNECTIONS,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

export const driveOpenLoad = async (options: OpenLoadOptions, kept?: Dispatcher): Promise<OpenLoadResult> => {
  const times = arrivalTimes(options.schedule);
  const seconds = scheduleSeconds(options.schedule);
  const ledger = new Ledger();
  const workload = workloadOf(options.workload, ledger);
  const pool = kept ?? openConnections(options.baseUrl, options.timeoutMs);
  const all = newHistogram();
  const committed = newHistogram();
  const sendLag = newHistogram();
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const bucketMs = options.bucketMs ?? 1000;
  const buckets = new Map<number, Recording>();
  const windows = (options.windows ?? []).map((window) => ({ ...window, recording: newRecording() }));
  const statusCounts: Record<string, number> = {};
  /** Resolves the wait for the last answers, once the schedule is done. */
  let allAnswered: (() => void) | undefined;
  let sent = 0;
  let dropped = 0;
  let errors = 0;
  /** Requests sent and not answered yet: those on a connection and those waiting for one. */
  let outstanding = 0;
  let onConnection = 0;
  /** Arrivals waiting for a connection, oldest first (from `head` on). */
  const waiting: ((() => void) | undefined)[] = [];
  let head = 0;
  /** The recordings an arrival counts in: its step of the timeline, and the windows it falls in. */
  const recordingsOf = (intended: number): Recording[] => {
    const index = Math.floor(intended / bucketMs);
    let bucket = buckets.get(index);
    if (!bucket) buckets.set(index, (bucket = newRecording()));
    return [bucket, ...windows.filter((w) => intended >= w.fromMs && intended < w.toMs).map((w) => w.recording)];
  };

  const answered = (planned: PlannedRequest, status: number, intended: number, recordings: Recording[]) => {
    const latency = performance.now() - startedAt - intended;
    noteAnswer(ledger, planned, status);
    recordMs(all, latency);
    if (planned.kind === 'reserve' && status === 201) recordMs(committed, latency);
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    for (const recording of recordings) {
      recording.statusCounts[status] = (recording.statusCounts[status] ?? 0) + 1;
      recordMs(recording.all, latency);
      if (status !== 503) recordMs(recording.admitted, latency);
    }
  };

  const issue = (intended: number, now: number) => {
    recordMs(sendLag, now - intended);
    const recordings = recordingsOf(intended);
    for (const recording of recordings) recording.offered++;
    if (outstanding >= options.connections + options.maxWaiting) {
      dropped++;
      for (const recording of recordings) recording.dropped++;
      return;
    }
    const planned = workload();
    ledger.sent(planned);
    outstanding++;
    sent++;
    let status = 0;
    const settle = (answeredWith: number | undefined) => {
      outstanding--;
      onConnection--;
      if (answeredWith === undefined) {
        errors++;
        for (const recording of recordings) recording.errors++;
      } else answered(planned, answeredWith, intended, recordings);
      const next = waiting[head];
      if (next) {
        waiting[head++] = undefined;
        next();
      }
      if (outstanding === 0) allAnswered?.();
    };
    // dispatch with a handler rather than request(): no promise and no body stream per request.
    const send = () => {
      onConnection++;
      pool.dispatch(
        {
          path: planned.path,
          method: planned.method,
          ...(planned.body ? { body: planned.body, headers: { 'content-type': 'application/json' } } : {}),
        },
        {
          onRequestStart: () => {},
          onResponseStart: (_controller, statusCode) => {
            status = statusCode;
          },
          onResponseEnd: () => settle(status),
          onResponseError: () => settle(undefined),
        },
      );
    };
    if (onConnection < options.connections) send();
    else waiting.push(send);
  };

  loopDelay.enable();
  const startedAt = performance.now();
  let next = 0;
  // Wakes at the next arrival's time and issues every arrival that is due; a late wake issues
  // them all at once, and their send lag says so.
  await new Promise<void>((done) => {
    const wake = () => {
      const now = performance.now() - startedAt;
      for (; next < times.length && times[next]! <= now; next++) issue(times[next]!, performance.now() - startedAt);
      if (next >= times.length) return done();
      setTimeout(wake, Math.max(0, times[next]! - (performance.now() - startedAt)));
    };
    wake();
  });
  const issuingSeconds = Math.max(seconds, (performance.now() - startedAt) / 1000);
  if (outstanding > 0) await new Promise<void>((done) => (allAnswered = done));
  loopDelay.disable();
  if (!kept) await pool.close();

  const offeredRate = round(times.length / seconds, 1);
  const achievedRate = round(times.length / issuingSeconds, 1);
  const sendLagP99 = msAt(sendLag, 99);
  const problems = generatorProblems(options.limits, sendLagP99, offeredRate, achievedRate);
  // The monitor records the time between its timer's ticks: the delay is what exceeds the resolution.
  const delayMs = (nanoseconds: number) => round(Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS), 2);
  const delay = (percentile: number) => delayMs(loopDelay.percentile(percentile));
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
      eventLoopDelayMs: { p50: delay(50), p99: delay(99), max: delayMs(loopDelay.max) },
      valid: problems.length === 0,
      problems,
    },
    timeline: Array.from({ length: Math.ceil((seconds * 1000) / bucketMs) }, (_, index) => {
      const bucket = buckets.get(index) ?? newRecording();
      return {
        atSecond: round((index * bucketMs) / 1000, 3),
        ...tallyOf(bucket),
        p99: msAt(bucket.all, 99),
        p99Admitted: msAt(bucket.admitted, 99),
      };
    }),
    windows: Object.fromEntries(
      windows.map(({ name, recording }) => [
        name,
        {
          ...tallyOf(recording),
          latencyMs: percentilesOf(recording.all),
          admittedLatencyMs: percentilesOf(recording.admitted),
        },
      ]),
    ),
    ledger: ledger.toRecord(),
  };
};
