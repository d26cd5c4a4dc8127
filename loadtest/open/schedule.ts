import { seededRandom } from '../random.js';

/** A part of a schedule: arrivals at `rate` per second for `seconds`, ramping linearly to `toRate` if given. */
export type ScheduleSegment = { seconds: number; rate: number; toRate?: number };

/**
 * How arrivals are spaced: `constant`, evenly at the rate; `poisson`, with exponential gaps of the
 * same mean (independent visitors), drawn from `seed` so a run can be replayed.
 */
export type Spacing = 'constant' | 'poisson';

export type Schedule = { segments: ScheduleSegment[]; spacing: Spacing; seed: number };

/** The arrivals a segment expects: the integral of its rate. */
const expectedArrivals = ({ seconds, rate, toRate = rate }: ScheduleSegment) => ((rate + toRate) / 2) * seconds;

/**
 * Seconds into a segment at which `n` arrivals are expected: the inverse of its cumulative rate
 * `rate·t + (toRate − rate)·t²/(2·seconds)`, written so that it holds for a flat segment too.
 */
const secondsToReach = ({ seconds, rate, toRate = rate }: ScheduleSegment, n: number) => {
  if (n <= 0) return 0;
  const slope = (toRate - rate) / (2 * seconds);
  return (2 * n) / (rate + Math.sqrt(rate * rate + 4 * slope * n));
};

/** The schedule's length in seconds. */
export const scheduleSeconds = (schedule: Pick<Schedule, 'segments'>): number =>
  schedule.segments.reduce((sum, s) => sum + s.seconds, 0);

/**
 * The intended start of every arrival, in ms from the schedule's start, in order. It depends on
 * the schedule alone, never on how the service answers: that is what makes the load open.
 *
 * Arrivals are placed by the expected count: the k-th comes when the cumulative rate reaches the
 * k-th mark. Constant spacing puts the marks 1 apart (the first at 0); Poisson spacing puts them
 * exponential gaps of mean 1 apart, which over a ramp gives a Poisson process of that varying rate.
 */
export const arrivalTimes = (schedule: Schedule): Float64Array => {
  const random = seededRandom(schedule.seed);
  const gap = schedule.spacing === 'poisson' ? () => -Math.log(1 - random()) : () => 1;
  const times: number[] = [];
  let mark = schedule.spacing === 'poisson' ? gap() : 0;
  let segmentStartMs = 0;
  let countBefore = 0;
  for (const segment of schedule.segments) {
    const count = expectedArrivals(segment);
    for (; mark < countBefore + count; mark += gap()) {
      times.push(segmentStartMs + secondsToReach(segment, mark - countBefore) * 1000);
    }
    segmentStartMs += segment.seconds * 1000;
    countBefore += count;
  }
  return Float64Array.from(times);
};

/** A constant rate for a while. */
export const steady = (rate: number, seconds: number): ScheduleSegment => ({ rate, seconds });

/** A spike: the base rate, a step up to the spike rate, a step back down to the base rate. */
export type SpikeShape = {
  baseRate: number;
  spikeRate: number;
  baseSeconds: number;
  spikeSeconds: number;
  recoverySeconds: number;
};

export const spikeSegments = (shape: SpikeShape): ScheduleSegment[] => [
  steady(shape.baseRate, shape.baseSeconds),
  steady(shape.spikeRate, shape.spikeSeconds),
  steady(shape.baseRate, shape.recoverySeconds),
];
