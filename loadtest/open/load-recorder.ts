import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { round } from '../stats.js';
import type { OpenBucket, OpenLoadResult, OpenPercentiles, OpenWindow, Tally } from './open-load.js';

/** Latencies are recorded in microseconds, from 1 µs up to 10 minutes, to 3 significant figures. */
const newHistogram = () => createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });
const recordMs = (histogram: RecordableHistogram, ms: number) =>
  histogram.record(Math.min(600_000_000, Math.max(1, Math.round(ms * 1000))));
const msAt = (histogram: RecordableHistogram, percentile: number): number =>
  histogram.count === 0 ? 0 : round(histogram.percentile(percentile) / 1000, 2);
const percentilesOf = (histogram: RecordableHistogram): OpenPercentiles => ({
  p50: msAt(histogram, 50),
  p90: msAt(histogram, 90),
  p99: msAt(histogram, 99),
  p999: msAt(histogram, 99.9),
  max: histogram.count === 0 ? 0 : round(histogram.max / 1000, 2),
  count: histogram.count,
});

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

/** Where one arrival counts: its step of the timeline and the windows it falls in. */
export type Arrival = Recording[];

/**
 * Records an open load by each arrival's intended start: every answer's latency in HDR
 * histograms (all, committed, per step of the timeline and per window; also those not refused
 * busy), the statuses, drops and errors, and how late each request left.
 */
export const createLoadRecorder = (options: {
  seconds: number;
  bucketMs: number;
  windows: { name: string; fromMs: number; toMs: number }[];
}) => {
  const all = newHistogram();
  const committed = newHistogram();
  const sendLag = newHistogram();
  const buckets = new Map<number, Recording>();
  const windows = options.windows.map((window) => ({ ...window, recording: newRecording() }));
  const statusCounts: Record<string, number> = {};
  const byKind = new Map<string, { latencies: RecordableHistogram; statusCounts: Record<string, number> }>();
  let dropped = 0;
  let errors = 0;
  return {
    /** An arrival at `intended` ms, issued `lagMs` late. */
    arrival(intended: number, lagMs: number): Arrival {
      recordMs(sendLag, lagMs);
      const index = Math.floor(intended / options.bucketMs);
      let bucket = buckets.get(index);
      if (!bucket) buckets.set(index, (bucket = newRecording()));
      const recordings = [
        bucket,
        ...windows.filter((w) => intended >= w.fromMs && intended < w.toMs).map((w) => w.recording),
      ];
      for (const recording of recordings) recording.offered++;
      return recordings;
    },
    /** A request that is not an arrival (a visitor's follow-up) left `lagMs` after its intended time. */
    late(lagMs: number): void {
      recordMs(sendLag, lagMs);
    },
    dropped(arrival: Arrival): void {
      dropped++;
      for (const recording of arrival) recording.dropped++;
    },
    failed(arrival: Arrival): void {
      errors++;
      for (const recording of arrival) recording.errors++;
    },
    answered(arrival: Arrival, status: number, latencyMs: number, isCommit: boolean, kind: string): void {
      recordMs(all, latencyMs);
      if (isCommit) recordMs(committed, latencyMs);
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      let ofKind = byKind.get(kind);
      if (!ofKind) byKind.set(kind, (ofKind = { latencies: newHistogram(), statusCounts: {} }));
      recordMs(ofKind.latencies, latencyMs);
      ofKind.statusCounts[status] = (ofKind.statusCounts[status] ?? 0) + 1;
      for (const recording of arrival) {
        recording.statusCounts[status] = (recording.statusCounts[status] ?? 0) + 1;
        recordMs(recording.all, latencyMs);
        if (status !== 503) recordMs(recording.admitted, latencyMs);
      }
    },
    /** The load's figures, by the answers recorded. */
    figures(): Pick<
      OpenLoadResult,
      'answered' | 'dropped' | 'errors' | 'statusCounts' | 'committed' | 'latencyMs' | 'byKind' | 'timeline' | 'windows'
    > & { sendLagMs: OpenLoadResult['generator']['sendLagMs'] } {
      const timeline: OpenBucket[] = Array.from(
        { length: Math.ceil((options.seconds * 1000) / options.bucketMs) },
        (_, index) => {
          const bucket = buckets.get(index) ?? newRecording();
          return {
            atSecond: round((index * options.bucketMs) / 1000, 3),
            ...tallyOf(bucket),
            p99: msAt(bucket.all, 99),
            p99Admitted: msAt(bucket.admitted, 99),
          };
        },
      );
      const windowFigures: Record<string, OpenWindow> = Object.fromEntries(
        windows.map(({ name, recording }) => [
          name,
          {
            ...tallyOf(recording),
            latencyMs: percentilesOf(recording.all),
            admittedLatencyMs: percentilesOf(recording.admitted),
          },
        ]),
      );
      return {
        answered: all.count,
        dropped,
        errors,
        statusCounts,
        committed: committed.count,
        latencyMs: { all: percentilesOf(all), committed: percentilesOf(committed) },
        byKind: Object.fromEntries(
          [...byKind].map(([kind, figures]) => [
            kind,
            { latencyMs: percentilesOf(figures.latencies), statusCounts: figures.statusCounts },
          ]),
        ),
        timeline,
        windows: windowFigures,
        sendLagMs: { p50: msAt(sendLag, 50), p99: msAt(sendLag, 99), max: round(sendLag.max / 1000, 2) },
      };
    },
  };
};
