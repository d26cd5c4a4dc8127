import { DESIGNS } from '../options.js';
import { colorFor } from './svg.js';

/** Each design's colour in every chart of a harness report, whichever designs a chart shows. */
export const designColor = (design: string): string => colorFor(design, Object.keys(DESIGNS));

/**
 * Each snapshot interval's colour in every chart of a benchmark report: its place among the
 * intervals the run measured, so a chart that leaves one out (no size without snapshots) keeps
 * the others' colours.
 */
export const intervalColor = (interval: number, intervals: readonly number[]): string =>
  colorFor(
    interval,
    [...intervals].sort((a, b) => a - b),
  );
