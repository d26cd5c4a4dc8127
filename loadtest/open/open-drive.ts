import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { Ledger, noteAnswer } from '../ledger.js';
import { isCommit } from '../recorder.js';
import { round } from '../stats.js';
import { workloadOf, type FollowUp, type PlannedRequest } from '../workloads.js';
import { createLoadRecorder, type Arrival } from './load-recorder.js';
import { generatorProblems, type OpenLoadOptions, type OpenLoadResult } from './open-load.js';
import { arrivalTimes, scheduleSeconds } from './schedule.js';

/** Most connections a load may use (see connectionsFor). */
export const MOST_CONNECTIONS = 4096;

/** How often the generator's event-loop delay is sampled, ms. */
const LOOP_RESOLUTION_MS = 5;

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

/**
 * Sends requests on at most `connections` at once; the others wait, oldest first, in the
 * generator's own queue. `settled` gets the status, or undefined for a request with no answer.
 */
const createSender = (pool: Dispatcher, connections: number) => {
  let onConnection = 0;
  const waiting: ((() => void) | undefined)[] = [];
  let head = 0;
  const send = (planned: PlannedRequest, settled: (status: number | undefined) => void) => {
    onConnection++;
    let status = 0;
    const done = (answer: number | undefined) => {
      onConnection--;
      settled(answer);
      const next = waiting[head];
      if (next) {
        waiting[head++] = undefined;
        next();
      }
    };
    // dispatch with a handler rather than request(): no promise and no body stream per request.
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
        onResponseEnd: () => done(status),
        onResponseError: () => done(undefined),
      },
    );
  };
  return (planned: PlannedRequest, settled: (status: number | undefined) => void): void => {
    if (onConnection < connections) send(planned, settled);
    else waiting.push(() => send(planned, settled));
  };
};

/**
 * Calls `issue` for every arrival at its intended time (ms after `startedAt`): it wakes at the
 * next arrival's time and issues every arrival that is due, so a late wake issues them all at
 * once, and their send lag says so. Resolves with the ms it took to issue them all.
 */
const followSchedule = (
  times: Float64Array,
  startedAt: number,
  issue: (intended: number, lateBy: number) => void,
): Promise<number> => {
  let next = 0;
  return new Promise((done) => {
    const wake = () => {
      for (; next < times.length; next++) {
        const now = performance.now() - startedAt;
        if (times[next]! > now) break;
        issue(times[next]!, now - times[next]!);
      }
      if (next >= times.length) return done(performance.now() - startedAt);
      setTimeout(wake, Math.max(0, times[next]! - (performance.now() - startedAt)));
    };
    wake();
  });
};

/**
 * Drives an open load: each arrival is issued at its intended time whatever the service is doing,
 * and its latency is taken from that intended time, so a stall shows up as the wait it caused
 * (no coordinated omission, and nothing to correct afterwards). An arrival that finds all its
 * `connections` busy waits in the generator's queue, and that wait counts; past `maxWaiting` it
 * is dropped. `kept`: connections kept from earlier loads (else it opens and closes its own).
 */
export const driveOpenLoad = async (options: OpenLoadOptions, kept?: Dispatcher): Promise<OpenLoadResult> => {
  const times = arrivalTimes(options.schedule);
  const seconds = scheduleSeconds(options.schedule);
  const ledger = new Ledger();
  const workload = workloadOf(options.workload, ledger);
  const pool = kept ?? openConnections(options.baseUrl, options.timeoutMs);
  const send = createSender(pool, options.connections);
  const recorder = createLoadRecorder({ seconds, bucketMs: options.bucketMs ?? 1000, windows: options.windows ?? [] });
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  /** Requests sent and not answered yet: those on a connection and those waiting for one. */
  let outstanding = 0;
  /** Visitors thinking before a follow-up: not requests yet, but the load is not over without them. */
  let thinking = 0;
  let sent = 0;
  let allAnswered: (() => void) | undefined;
  /** When the schedule began (`performance.now()`): intended starts count from it. */
  let startedAt = 0;

  /** Sends one request on the schedule's clock: its latency from `intended`, recorded where `arrival` counts. */
  const dispatch = (planned: PlannedRequest, intended: number, arrival: Arrival) => {
    ledger.sent(planned);
    outstanding++;
    sent++;
    send(planned, (status) => {
      outstanding--;
      if (status === undefined) recorder.failed(arrival);
      else {
        noteAnswer(ledger, planned, status);
        const now = performance.now() - startedAt;
        recorder.answered(arrival, status, now - intended, isCommit(planned.kind, status), planned.kind);
        const next = workload.followUp?.(planned, status);
        if (next) thinkThenSend(next, now + next.thinkMs, arrival);
      }
      if (outstanding + thinking === 0) allAnswered?.();
    });
  };

  /**
   * A visitor's follow-up, sent at `intended` (its answer's time plus its think time) and timed
   * from then, whatever the service does meanwhile; it counts where its visitor's arrival counts,
   * and the load waits for it. It is never dropped: its visitor is already in.
   */
  const thinkThenSend = ({ request }: FollowUp, intended: number, arrival: Arrival) => {
    thinking++;
    setTimeout(
      () => {
        thinking--;
        recorder.late(performance.now() - startedAt - intended);
        dispatch(request, intended, arrival);
      },
      Math.max(0, intended - (performance.now() - startedAt)),
    );
  };

  const issue = (intended: number, lateBy: number) => {
    const arrival = recorder.arrival(intended, lateBy);
    if (outstanding >= options.connections + options.maxWaiting) return recorder.dropped(arrival);
    dispatch(workload(), intended, arrival);
  };

  loopDelay.enable();
  startedAt = performance.now();
  const issuingMs = await followSchedule(times, startedAt, issue);
  if (outstanding + thinking > 0) await new Promise<void>((done) => (allAnswered = done));
  loopDelay.disable();
  if (!kept) await pool.close();

  const offeredRate = round(times.length / seconds, 1);
  const achievedRate = round(times.length / Math.max(seconds, issuingMs / 1000), 1);
  const { sendLagMs, ...figures } = recorder.figures();
  const problems = generatorProblems(options.limits, sendLagMs.p99, offeredRate, achievedRate);
  // The monitor records the time between its timer's ticks: the delay is what exceeds the resolution.
  const delayMs = (nanoseconds: number) => round(Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS), 2);
  return {
    seconds,
    offered: times.length,
    offeredRate,
    achievedRate,
    sent,
    ...figures,
    generator: {
      sendLagMs,
      eventLoopDelayMs: {
        p50: delayMs(loopDelay.percentile(50)),
        p99: delayMs(loopDelay.percentile(99)),
        max: delayMs(loopDelay.max),
      },
      valid: problems.length === 0,
      problems,
    },
    ledger: ledger.toRecord(),
  };
};
