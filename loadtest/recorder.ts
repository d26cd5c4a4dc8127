import type { ProjectionLags } from './server-metrics.js';
import { percentiles, round, type Percentiles } from './stats.js';

/** What a request was, for classifying its answer; a checkout's visitors send holds, confirms and releases. */
export type RequestKind = 'reserve' | 'cancel' | 'read' | 'ceiling' | 'hold' | 'confirm' | 'release';

/** Whether an answer made a reservation final: a reservation answered 201, or a hold's confirm answered 200. */
export const isCommit = (kind: RequestKind, status: number): boolean =>
  (kind === 'reserve' && status === 201) || (kind === 'confirm' && status === 200);

/** The answers of one kind of request in the held part: their latencies and statuses. */
export type KindFigures = { latencyMs: Percentiles; statusCounts: Record<string, number> };

export type TimelinePoint = {
  second: number;
  requests: number;
  committed: number;
  p99: number;
  /** The largest lag sampled in that second, ms, by projection. */
  lagMs: Record<string, number>;
};

/** Lag of one projection over a phase (ramp included), from the per-second samples (ms). */
export type LagSummary = { p50: number; p99: number; max: number; samples: number };

const rounded = (p: Percentiles): Percentiles => ({
  p50: round(p.p50, 2),
  p90: round(p.p90, 2),
  p99: round(p.p99, 2),
  max: round(p.max, 2),
  count: p.count,
});

/**
 * Records every answer of a phase: status, latency and time. Gives the phase's figures and a
 * per-second timeline (throughput and p99), so warm-up, sell-out and decay are visible.
 */
export class Recorder {
  readonly startedAt = performance.now();
  /** Answers of the held part, by status code. */
  readonly statusCounts: Record<string, number> = {};
  readonly latencies: number[] = [];
  readonly committedLatencies: number[] = [];
  /** Time (ms since start) of each committed reservation. */
  readonly commitTimes: number[] = [];
  #seconds = new Map<number, { requests: number; committed: number; latencies: number[] }>();
  #lagBySecond = new Map<number, Record<string, number>>();
  /** Lag samples, ms, by projection; those of a ramp count too (heldFrom is 0 until hold()). */
  readonly lagSamples: Record<string, number[]> = {};
  /** Latencies of the held part's requests to the watched conference (the hot one of a hotspot). */
  readonly watchedLatencies: number[] = [];
  /** Reservations committed to the watched conference in the held part. */
  watchedCommitted = 0;
  errors = 0;
  /** Latencies and statuses of the held part, by kind of request. */
  #byKind = new Map<RequestKind, { latencies: number[]; statusCounts: Record<string, number> }>();
  /** Where the held (measured) part of the phase begins, ms since start. */
  heldFrom = 0;
  /** When the last answer came, ms since start. */
  #lastAnswerAt = 0;

  /** `watch`: a conference whose requests are also measured on their own. */
  constructor(private readonly watch?: string) {}

  record(kind: RequestKind, status: number, latencyMs: number, conferenceId?: string): void {
    const now = performance.now() - this.startedAt;
    this.#lastAnswerAt = now;
    const committed = isCommit(kind, status);
    const second = Math.floor(now / 1000);
    const bucket = this.#seconds.get(second) ?? { requests: 0, committed: 0, latencies: [] };
    bucket.requests++;
    bucket.latencies.push(latencyMs);
    if (committed) bucket.committed++;
    this.#seconds.set(second, bucket);
    if (now < this.heldFrom) return;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    this.latencies.push(latencyMs);
    const ofKind = this.#byKind.get(kind) ?? { latencies: [], statusCounts: {} };
    ofKind.latencies.push(latencyMs);
    ofKind.statusCounts[status] = (ofKind.statusCounts[status] ?? 0) + 1;
    this.#byKind.set(kind, ofKind);
    if (committed) {
      this.committedLatencies.push(latencyMs);
      this.commitTimes.push(now);
    }
    if (this.watch !== undefined && conferenceId === this.watch) {
      this.watchedLatencies.push(latencyMs);
      if (committed) this.watchedCommitted++;
    }
  }

  /** One sample of every projection's lag (see sampleLag). */
  recordLag(lags: ProjectionLags): void {
    const now = performance.now() - this.startedAt;
    const second = Math.floor(now / 1000);
    const bucket = this.#lagBySecond.get(second) ?? {};
    for (const [projection, { milliseconds }] of Object.entries(lags)) {
      bucket[projection] = Math.max(bucket[projection] ?? 0, milliseconds);
      if (now >= this.heldFrom) (this.lagSamples[projection] ??= []).push(milliseconds);
    }
    this.#lagBySecond.set(second, bucket);
  }

  /** p50, p99 and max of each projection's lag (see lagSamples). */
  lag(): Record<string, LagSummary> {
    return Object.fromEntries(
      Object.entries(this.lagSamples).map(([projection, samples]) => {
        const { p50, p99, max, count } = percentiles([...samples]);
        return [projection, { p50, p99, max, samples: count }];
      }),
    );
  }

  recordError(): void {
    this.errors++;
  }

  /** Marks the start of the measured part (after the ramp). */
  hold(): void {
    this.heldFrom = performance.now() - this.startedAt;
  }

  /**
   * Seconds from the start of the held part to the last answer. For a load of a fixed number of
   * requests this is the time they took: autocannon itself reports the end of such a run only at
   * its next one-second tick, which made a 1.5 s sell-out look like 2 s.
   */
  heldSeconds(): number {
    return (this.#lastAnswerAt - this.heldFrom) / 1000;
  }

  timeline(): TimelinePoint[] {
    const last = Math.max(-1, ...this.#seconds.keys(), ...this.#lagBySecond.keys());
    return Array.from({ length: last + 1 }, (_, second) => {
      const bucket = this.#seconds.get(second);
      return {
        second,
        requests: bucket?.requests ?? 0,
        committed: bucket?.committed ?? 0,
        p99: round(percentiles(bucket?.latencies ?? []).p99, 2),
        lagMs: this.#lagBySecond.get(second) ?? {},
      };
    });
  }

  latency(): { all: Percentiles; committed: Percentiles } {
    return { all: rounded(percentiles(this.latencies)), committed: rounded(percentiles(this.committedLatencies)) };
  }

  /** The held part's answers to one kind of request (none: zero latencies, no statuses). */
  ofKind(kind: RequestKind): KindFigures {
    const ofKind = this.#byKind.get(kind);
    return {
      latencyMs: rounded(percentiles([...(ofKind?.latencies ?? [])])),
      statusCounts: { ...ofKind?.statusCounts },
    };
  }

  /** The watched conference's figures over the held part, if one is watched. */
  watched(
    seconds: number,
  ): { conferenceId: string; reservationsPerSecond: number; latencyMs: Percentiles } | undefined {
    if (this.watch === undefined) return undefined;
    return {
      conferenceId: this.watch,
      reservationsPerSecond: round(this.watchedCommitted / seconds),
      latencyMs: rounded(percentiles(this.watchedLatencies)),
    };
  }
}
