import { MOST_CONNECTIONS } from './open-drive.js';
import type { OpenBucket, OpenLoadResult } from './open-load.js';

/** Whether a step kept the objective, and if not, why. */
export type StepVerdict = {
  passed: boolean;
  reasons: string[];
  /** The generator could not drive the step: it says nothing of the service. */
  generatorLimited: boolean;
};

/** Busy answers (503 busy) a step may have, as a share of its answers. */
export const BUSY_SHARE_ALLOWED = 0.01;

/**
 * A step keeps the objective when the generator drove it as scheduled, p99 of every answer is at
 * or under the objective, nothing failed or was dropped, and under 1% were refused busy.
 */
export const stepVerdict = (
  load: Pick<OpenLoadResult, 'latencyMs' | 'statusCounts' | 'dropped' | 'errors' | 'answered' | 'generator'>,
  sloMs: number,
): StepVerdict => {
  const busy = load.statusCounts[503] ?? 0;
  const failed = Object.entries(load.statusCounts)
    .filter(([status]) => Number(status) >= 500 && status !== '503')
    .reduce((n, [, count]) => n + count, 0);
  const reasons = [
    ...load.generator.problems,
    ...(load.latencyMs.all.p99 > sloMs ? [`p99 ${load.latencyMs.all.p99} ms over ${sloMs} ms`] : []),
    ...(load.errors > 0 ? [`${load.errors} requests without an answer`] : []),
    ...(failed > 0 ? [`${failed} answers 5xx other than busy`] : []),
    ...(load.dropped > 0 ? [`${load.dropped} arrivals dropped`] : []),
    ...(load.answered > 0 && busy / load.answered >= BUSY_SHARE_ALLOWED
      ? [`${Math.round((busy / load.answered) * 1000) / 10}% busy (503)`]
      : []),
    ...(load.answered === 0 ? ['no answer'] : []),
  ];
  return { passed: reasons.length === 0, reasons, generatorLimited: !load.generator.valid };
};

export type SearchSettings = { startRate: number; maxRate: number; refinements: number };

/** A rate rounded to two significant figures, so steps read as 450/s or 2,300/s. */
export const roundRate = (rate: number): number => {
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(rate)) - 1);
  return Math.max(1, Math.round(rate / magnitude) * magnitude);
};

/** How much each step of the search grows the rate while the objective holds. */
const GROWTH = 1.5;

type Tried = readonly { rate: number; passed: boolean }[];

const lowestFailOf = (tried: Tried) => Math.min(...tried.filter((t) => !t.passed).map((t) => t.rate));

/** The best rate that passed below every failing one, and the lowest that failed; undefined until both are known. */
const bracketOf = (tried: Tried): { bestPass: number; lowestFail: number } | undefined => {
  const lowestFail = lowestFailOf(tried);
  const passes = tried.filter((t) => t.passed && t.rate < lowestFail).map((t) => t.rate);
  return lowestFail === Infinity || passes.length === 0 ? undefined : { bestPass: Math.max(...passes), lowestFail };
};

/**
 * The next rate of a capacity search, or undefined when it is done. It grows the rate 1.5× a
 * step while the objective holds (halving it instead while even the first rate fails), then
 * halves the gap between the best passing rate and the lowest failing one `refinements` times,
 * or until the gap is under 5%.
 */
export const nextRate = (tried: Tried, settings: SearchSettings): number | undefined => {
  if (tried.length === 0) return roundRate(Math.min(settings.startRate, settings.maxRate));
  const bracket = bracketOf(tried);
  if (!bracket) {
    const lowestFail = lowestFailOf(tried);
    if (lowestFail !== Infinity) {
      const lower = roundRate(lowestFail / 2);
      return lower < 5 || lower >= lowestFail ? undefined : lower;
    }
    const highest = Math.max(...tried.map((t) => t.rate));
    return highest >= settings.maxRate ? undefined : roundRate(Math.min(settings.maxRate, highest * GROWTH));
  }
  const refined = tried.length - 1 - tried.findIndex((_, i) => bracketOf(tried.slice(0, i + 1)) !== undefined);
  const { bestPass, lowestFail } = bracket;
  if (refined >= settings.refinements || lowestFail - bestPass <= bestPass * 0.05) return undefined;
  const middle = roundRate((bestPass + lowestFail) / 2);
  return middle > bestPass && middle < lowestFail ? middle : undefined;
};

/** The capacity a search found: its best passing rate below every failing one (0 if none). */
export const capacityOf = (tried: Tried): number => {
  const lowestFail = lowestFailOf(tried);
  return Math.max(0, ...tried.filter((t) => t.passed && t.rate < lowestFail).map((t) => t.rate));
};

/**
 * Seconds after `fromSecond` (the spike's end) until p99 is back at or under the objective for
 * good: the start of the first step of the timeline from which every step with answers keeps it.
 * Null when the last step still misses it.
 */
export const recoverySeconds = (timeline: readonly OpenBucket[], fromSecond: number, sloMs: number): number | null => {
  const after = timeline.filter((b) => b.atSecond >= fromSecond);
  let recoveredAt: number | null = null;
  for (const bucket of after) {
    const answers = Object.values(bucket.statusCounts).reduce((a, b) => a + b, 0);
    if (answers === 0 && bucket.errors === 0 && bucket.dropped === 0) continue;
    const kept = bucket.p99 <= sloMs && bucket.errors === 0 && bucket.dropped === 0;
    if (!kept) recoveredAt = null;
    else recoveredAt ??= bucket.atSecond;
  }
  return recoveredAt === null ? null : Math.round((recoveredAt - fromSecond) * 1000) / 1000;
};

/**
 * Connections for a rate by Little's law: requests in flight = rate × time each takes. At the
 * objective no answer takes longer than it at p99, so rate × objective connections serve the
 * rate without queueing in the generator; beyond that, arrivals wait for a connection, and the
 * wait counts in their latency. A wider pool moves that queue into the server's listen backlog
 * instead: with rate × 1 s, the first half second of a 6,000/s spike opened thousands of
 * connections at once, and its arrivals waited up to 14 s (a full listen backlog, most likely).
 */
export const connectionsFor = (rate: number, sloMs: number, override?: number): number =>
  override ?? Math.min(MOST_CONNECTIONS, Math.max(16, Math.ceil((rate * sloMs) / 1000)));

/** Arrivals that may wait for a connection before more are dropped: five seconds of the rate. */
export const waitingFor = (rate: number): number => Math.max(100, Math.ceil(rate * 5));
