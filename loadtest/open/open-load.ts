import type { LedgerRecord } from '../ledger.js';
import type { WorkloadPlan } from '../workloads.js';
import type { Schedule } from './schedule.js';

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
export type Tally = { offered: number; dropped: number; errors: number; statusCounts: Record<string, number> };

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
  /** Latencies and statuses by kind of request (hold, confirm, release, reserve, ...). */
  byKind: Record<string, { latencyMs: OpenPercentiles; statusCounts: Record<string, number> }>;
  generator: GeneratorHealth;
  timeline: OpenBucket[];
  windows: Record<string, OpenWindow>;
  ledger: LedgerRecord;
};

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
