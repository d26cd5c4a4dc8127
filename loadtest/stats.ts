/** Latency percentiles in milliseconds. */
export type Percentiles = { p50: number; p90: number; p99: number; max: number; count: number };

/** Nearest-rank percentiles of a list of latencies (sorted in place). */
export const percentiles = (latencies: number[]): Percentiles => {
  if (latencies.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, count: 0 };
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
  return { p50: at(50), p90: at(90), p99: at(99), max: latencies[latencies.length - 1] ?? 0, count: latencies.length };
};

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** `a ÷ b` as a report cell (`1.25×`); `-` when either is missing or `b` is 0. */
export const ratioCell = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '-' : `${round(a / b, 2)}×`;
