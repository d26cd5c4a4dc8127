import { round } from '../stats.js';

/** What the benchmark measured of one interval: its cold loads by stream length, and its surges. */
export type IntervalFigures = {
  interval: number;
  /** Cold-load time at each stream length measured (ms): the median and the p90 of its samples. */
  coldLoads: { streamLength: number; median: number; p90: number }[];
  /** Surge committed/s of each pass of the write-cost phase (none when it did not run). */
  surgeRates: number[];
};

/** A surge figure over its passes: the mean, and half the range between passes as its noise. */
export type RateBand = { mean: number; halfRange: number };

export type Recommendation = {
  /** The interval recommended; null when none keeps cold loads within the bound. */
  interval: number | null;
  maxColdMs: number;
  /** The recommended interval's slowest cold-load p90 and the stream length where it was. */
  worstCold: { streamLength: number; p90: number } | null;
  /**
   * What it costs the writes: its surge committed/s below the baseline's (no snapshots, or the
   * largest interval measured), in % of the baseline, with the noise band of the two (± %).
   */
  surgeCost: { percent: number; bandPercent: number; baseline: number } | null;
  /** A neighbour the figures cannot tell apart from the pick, and why. */
  withinNoise: { interval: number; reason: string } | null;
  /** The answer in one line. */
  line: string;
};

/**
 * How far over the bound a cold-load median may be and still be within noise of it: the median of
 * one interval at one length moved by more than this between two runs here (interval 1000 at
 * 10,000 events: 5.02 and 4.25 ms).
 */
const MEDIAN_NOISE = 0.1;

/** The rule, as the report states it. */
export const RULE =
  'The largest interval whose cold-load p90 stays within --max-cold-ms at every stream length measured: a smaller one ' +
  'only adds snapshot writes and rows. A p90 over the bound whose median meets it is within noise of the bound, and so ' +
  `is a median within ${MEDIAN_NOISE * 100}% over it: the next larger interval in that case is named as within noise. ` +
  'When no interval meets the bound with its p90, the largest whose median does is picked and said to be within noise, ' +
  'and the next smaller one whose median meets it too is named beside it. Its write cost is its surge committed/s ' +
  'against no snapshots (or the largest interval measured), with the noise band of the passes (half the range between ' +
  'passes, each side); the next smaller interval is named as within noise when the surges cannot tell the two apart.';

export const rateBand = (rates: number[]): RateBand | null => {
  if (rates.length === 0) return null;
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  return { mean, halfRange: (Math.max(...rates) - Math.min(...rates)) / 2 };
};

const worst = (f: IntervalFigures) =>
  f.coldLoads.reduce<IntervalFigures['coldLoads'][number] | null>((w, c) => (w && w.p90 >= c.p90 ? w : c), null);

/** Whether two surge figures differ by no more than their passes' noise. */
const indistinct = (a: RateBand, b: RateBand) => Math.abs(a.mean - b.mean) <= a.halfRange + b.halfRange;

/** The interval to recommend, by RULE. Pure: the report and the tests call it on measured figures. */
export const recommendInterval = (figures: IntervalFigures[], maxColdMs: number): Recommendation => {
  const byInterval = [...figures].filter((f) => f.interval > 0).sort((a, b) => a.interval - b.interval);
  const measured = byInterval.filter((f) => f.coldLoads.length > 0);
  const clearly = measured.filter((f) => f.coldLoads.every((c) => c.p90 <= maxColdMs));
  // A p90 over the bound whose median meets it is one slow sample: within noise of the bound.
  const nearly = measured.filter((f) => f.coldLoads.every((c) => c.median <= maxColdMs));
  const pick = clearly.at(-1) ?? nearly.at(-1);
  const pickWithinNoise = pick !== undefined && !clearly.includes(pick);
  if (!pick) {
    const smallest = byInterval[0];
    const w = smallest && worst(smallest);
    return {
      interval: null,
      maxColdMs,
      worstCold: null,
      surgeCost: null,
      withinNoise: null,
      line:
        smallest && w
          ? `no interval keeps cold-load p90 ≤ ${maxColdMs} ms at every length: the smallest, ${smallest.interval}, reaches ${w.p90} ms at ${w.streamLength.toLocaleString('en')} events; raise --max-cold-ms`
          : 'no interval measured',
    };
  }
  const baselineFigures = figures.find((f) => f.interval === 0 && f.surgeRates.length > 0) ?? byInterval.at(-1);
  const baseline = rateBand(baselineFigures?.surgeRates ?? []);
  const own = rateBand(pick.surgeRates);
  const surgeCost =
    baseline && own && baseline.mean > 0
      ? {
          percent: round(((baseline.mean - own.mean) / baseline.mean) * 100, 1),
          bandPercent: round(((baseline.halfRange + own.halfRange) / baseline.mean) * 100, 1),
          baseline: round(baseline.mean, 0),
        }
      : null;
  const index = byInterval.indexOf(pick);
  const larger = byInterval[index + 1];
  const smaller = byInterval[index - 1];
  const largerWorst = larger && worst(larger);
  const slowestMedian = (f: IntervalFigures) => Math.max(...f.coldLoads.map((c) => c.median));
  const largerMedianNear = larger !== undefined && slowestMedian(larger) <= maxColdMs * (1 + MEDIAN_NOISE);
  const smallerMedianMeets = smaller !== undefined && slowestMedian(smaller) <= maxColdMs;
  const smallerBand = smaller && rateBand(smaller.surgeRates);
  const withinNoise =
    larger && largerWorst && largerMedianNear
      ? {
          interval: larger.interval,
          reason: `its slowest cold-load median, ${slowestMedian(larger)} ms, is within noise of ${maxColdMs} ms, its p90 reaches ${largerWorst.p90} ms at ${largerWorst.streamLength.toLocaleString('en')} events`,
        }
      : pickWithinNoise && smaller && smallerMedianMeets
        ? {
            interval: smaller.interval,
            reason: `its cold-load median meets ${maxColdMs} ms at every length too, with more room (slowest ${slowestMedian(smaller)} ms)`,
          }
        : smaller && smallerBand && own && indistinct(own, smallerBand)
          ? {
              interval: smaller.interval,
              reason: `its surge committed/s (${round(smallerBand.mean, 0)} ± ${round(smallerBand.halfRange, 0)}) is within noise of ${round(own.mean, 0)} ± ${round(own.halfRange, 0)}`,
            }
          : null;
  const w = worst(pick)!;
  const against = baselineFigures?.interval === 0 ? 'no snapshots' : `interval ${baselineFigures?.interval}`;
  const passes = Math.min(pick.surgeRates.length, baselineFigures?.surgeRates.length ?? 0);
  // The change in committed/s against the baseline, signed: a cost is a negative change.
  const change = surgeCost ? `${surgeCost.percent <= 0 ? '+' : '-'}${Math.abs(surgeCost.percent)}% committed/s` : '';
  const cost = surgeCost
    ? passes < 2
      ? `, costing ${surgeCost.percent}% of surge throughput against ${against} (one pass: no noise band)`
      : surgeCost.percent <= surgeCost.bandPercent
        ? `, costing no measurable surge throughput (${change} against ${against}, noise ±${surgeCost.bandPercent}%)`
        : `, costing ${surgeCost.percent}% of surge throughput against ${against} (noise ±${surgeCost.bandPercent}%)`
    : ', write cost not measured';
  const noise = withinNoise ? `; interval ${withinNoise.interval} is within noise (${withinNoise.reason})` : '';
  return {
    interval: pick.interval,
    maxColdMs,
    worstCold: { streamLength: w.streamLength, p90: w.p90 },
    surgeCost,
    withinNoise,
    line: pickWithinNoise
      ? `interval ${pick.interval}: cold-load median ≤ ${maxColdMs} ms at every length, p90 within noise of it (worst ${w.p90} ms at ${w.streamLength.toLocaleString('en')} events; no interval's p90 met the bound everywhere)${cost}${noise}`
      : `interval ${pick.interval}: cold-load p90 ≤ ${maxColdMs} ms at every length (worst ${w.p90} ms at ${w.streamLength.toLocaleString('en')} events)${cost}${noise}`,
  };
};

/**
 * Surge committed/s of two intervals compared pass by pass: the difference of the means (in % of
 * the second), and the range of the per-pass differences as its band.
 */
export const compareSurges = (a: IntervalFigures | undefined, b: IntervalFigures | undefined) => {
  if (!a || !b || a.surgeRates.length === 0 || a.surgeRates.length !== b.surgeRates.length) return null;
  const bandA = rateBand(a.surgeRates)!;
  const bandB = rateBand(b.surgeRates)!;
  const differences = a.surgeRates.map((rate, i) => rate - b.surgeRates[i]!);
  const percent = (value: number) => (bandB.mean > 0 ? round((value / bandB.mean) * 100, 1) : 0);
  return {
    intervals: [a.interval, b.interval] as const,
    means: [round(bandA.mean, 0), round(bandB.mean, 0)] as const,
    difference: round(bandA.mean - bandB.mean, 0),
    differencePercent: percent(bandA.mean - bandB.mean),
    /** The smallest and largest per-pass difference, % of the second interval's mean. */
    bandPercent: [percent(Math.min(...differences)), percent(Math.max(...differences))] as const,
    passes: a.surgeRates.length,
  };
};
