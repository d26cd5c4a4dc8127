import { describe, expect, it } from 'vitest';
import { compareSurges, recommendInterval, type IntervalFigures } from '../loadtest/snapshots/recommend.js';

/** Cold loads at 1k, 10k and 100k events, all with this median and p90, and the surges of each pass. */
const figures = (interval: number, median: number, p90: number, surgeRates: number[]): IntervalFigures => ({
  interval,
  coldLoads: [1000, 10_000, 100_000].map((streamLength) => ({ streamLength, median, p90 })),
  surgeRates,
});

describe('the snapshot interval recommendation', () => {
  it.each<[string, IntervalFigures[], number, number | null, string | null]>([
    [
      'the largest interval within the bound',
      [
        figures(0, 300, 320, [4000, 4000]),
        figures(10, 1, 2, [3800, 3800]),
        figures(100, 2, 3, [3960, 3960]),
        figures(1000, 12, 20, [4000, 4000]),
      ],
      5,
      100,
      null,
    ],
    [
      'a larger interval once the bound is raised',
      [figures(10, 1, 2, [3800, 3800]), figures(100, 2, 3, [3960, 3960]), figures(1000, 12, 20, [4000, 4000])],
      25,
      1000,
      null,
    ],
    [
      'the next larger interval within noise when its median meets the bound and its p90 does not',
      [figures(10, 1, 2, [3800, 3800]), figures(100, 2, 3, [3960, 3960]), figures(1000, 4, 6, [4000, 4000])],
      5,
      100,
      'interval 1000 is within noise',
    ],
    [
      'the next smaller interval within noise when the surges cannot tell them apart',
      [figures(10, 1, 2, [3900, 4100]), figures(100, 2, 3, [3950, 4050]), figures(1000, 12, 20, [4000, 4000])],
      5,
      100,
      'interval 10 is within noise',
    ],
    ['none when no interval meets the bound', [figures(10, 6, 8, [3800]), figures(100, 7, 9, [3900])], 5, null, null],
    [
      'the largest whose median meets the bound, within noise, when no p90 does',
      [figures(10, 1, 8, [3800]), figures(100, 2, 9, [3900]), figures(1000, 9, 30, [4000])],
      5,
      100,
      'p90 within noise of it',
    ],
    // The two runs of 2026-12-03: the median of 1000 sat at the bound, over it in one, under in the other.
    [
      'the smaller neighbour beside a pick within noise, when its median meets the bound too',
      [figures(10, 9, 14, [4900]), figures(100, 1.7, 12.6, [5000]), figures(1000, 4.3, 12.6, [5000])],
      5,
      1000,
      'interval 100 is within noise',
    ],
    [
      'the larger neighbour whose median is within 10% over the bound',
      [figures(10, 9, 14, [4400]), figures(100, 2, 5.3, [4500]), figures(1000, 5.15, 21, [4600])],
      5,
      100,
      'interval 1000 is within noise',
    ],
    [
      'an interval without snapshots at some length counts its slowest length',
      [
        figures(100, 2, 3, [3900]),
        {
          interval: 1000,
          coldLoads: [
            { streamLength: 1000, median: 4, p90: 4.5 },
            { streamLength: 10_000, median: 40, p90: 50 },
          ],
          surgeRates: [4000],
        },
      ],
      5,
      100,
      null,
    ],
  ])('picks %s', (_, measured, maxColdMs, interval, noise) => {
    const recommendation = recommendInterval(measured, maxColdMs);
    expect(recommendation.interval).toBe(interval);
    if (noise === null) expect(recommendation.withinNoise).toBeNull();
    else expect(recommendation.line).toContain(noise);
  });

  it('states the pick, its bound and its cost against no snapshots in one line', () => {
    const recommendation = recommendInterval(
      [figures(0, 300, 320, [4000, 4100]), figures(100, 2, 3, [3900, 3950]), figures(1000, 12, 20, [4000, 4050])],
      5,
    );
    expect(recommendation.surgeCost).toEqual({ percent: 3.1, bandPercent: 1.9, baseline: 4050 });
    expect(recommendation.line).toBe(
      'interval 100: cold-load p90 ≤ 5 ms at every length (worst 3 ms at 1,000 events), costing 3.1% of surge throughput against no snapshots (noise ±1.9%)',
    );
  });

  it('says a cost inside the noise of the passes is not measurable', () => {
    const recommendation = recommendInterval([figures(0, 300, 320, [4000, 4200]), figures(100, 2, 3, [3950, 4150])], 5);
    expect(recommendation.line).toContain(
      'costing no measurable surge throughput (-1.2% committed/s against no snapshots',
    );
    const faster = recommendInterval([figures(0, 300, 320, [4000, 4200]), figures(100, 2, 3, [4500, 4700])], 5);
    expect(faster.line).toContain('costing no measurable surge throughput (+12.2% committed/s against no snapshots');
  });

  it('compares two intervals pass by pass, with the range of the per-pass differences as the band', () => {
    expect(compareSurges(figures(10, 1, 2, [3800, 3900]), figures(1000, 12, 20, [4000, 3950]))).toEqual({
      intervals: [10, 1000],
      means: [3850, 3975],
      difference: -125,
      differencePercent: -3.1,
      bandPercent: [-5, -1.3],
      passes: 2,
    });
    expect(compareSurges(figures(10, 1, 2, []), figures(1000, 12, 20, []))).toBeNull();
  });
});
