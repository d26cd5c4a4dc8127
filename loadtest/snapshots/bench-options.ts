import { parseArgs } from 'node:util';
import { UsageRequested } from '../options.js';

export type BenchOptions = {
  intervals: number[];
  lengths: number[];
  samples: number;
  commands: number;
  /** Holds still pending at the end of every stream (its last events): a checkout in full swing. */
  holds: number;
  /** The write-cost phase: passes over every interval (0: no phase), each a surge of this long at these connections. */
  repeats: number;
  surgeSeconds: number;
  connections: number;
  /** The recommendation's bound on cold-load p90 at every length. */
  maxColdMs: number;
  /** Retention: the K of SNAPSHOT_KEEP measured against keeping all (multiples of the smallest interval). */
  keeps: number[];
  outDir: string;
};

export const BENCH_USAGE = `npm run bench:snapshots -- [options]

  --intervals 0,10,100,1000,10000   snapshot intervals (0: none)
  --lengths 1k,10k,100k             stream lengths in events (k and m suffixes)
  --samples 7                       measurements behind each cold-load, asOf and snapshot-write figure
  --holds 0                         pending holds at the end of every stream
  --repeats 2                       passes of the write-cost phase over every interval (0: skip it);
                                    two or more give its noise band
  --surge-seconds 3                 held seconds of each surge on the batched path (after a 1 s ramp)
  --connections 64                  connections of each surge
  --max-cold-ms 5                   the recommendation's bound: cold-load p90 at every stream length
  --keep 100,1000,10000             retention: SNAPSHOT_KEEP values measured against all (rows kept
                                    against asOf latency, on the longest stream at the smallest interval)
  --quick                           a small run (about half a minute) for tests and smoke checks
  --out DIR                         where reports go (default loadtest/results/<timestamp>-snapshots)
  --help                            this text`;

const numbers = (text: string, name: string) =>
  text.split(',').map((v) => {
    const n = Number(v.replace(/k$/i, '000').replace(/m$/i, '000000'));
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a list of whole numbers (got "${text}")`);
    return n;
  });

const positive = (text: string | undefined, name: string, fallback: number) => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${text}")`);
  return n;
};

const whole = (text: string | undefined, name: string, fallback: number) => {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number (got "${text}")`);
  return n;
};

export const parseBenchOptions = (argv: string[], now = new Date()): BenchOptions => {
  const { values } = parseArgs({
    args: argv,
    options: {
      intervals: { type: 'string' },
      lengths: { type: 'string' },
      samples: { type: 'string' },
      holds: { type: 'string' },
      repeats: { type: 'string' },
      'surge-seconds': { type: 'string' },
      connections: { type: 'string' },
      'max-cold-ms': { type: 'string' },
      keep: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageRequested();
  const quick = values.quick ?? false;
  const samples = whole(values.samples, 'samples', quick ? 3 : 7);
  if (samples < 1) throw new Error('--samples must be at least 1');
  return {
    intervals: numbers(values.intervals ?? (quick ? '0,10,100' : '0,10,100,1000,10000'), 'intervals'),
    lengths: numbers(values.lengths ?? (quick ? '300,1000' : '1000,10000,100000'), 'lengths'),
    samples,
    commands: quick ? 5 : 20,
    holds: numbers(values.holds ?? '0', 'holds')[0] ?? 0,
    repeats: whole(values.repeats, 'repeats', quick ? 1 : 2),
    surgeSeconds: positive(values['surge-seconds'], 'surge-seconds', quick ? 1 : 3),
    connections: whole(values.connections, 'connections', quick ? 8 : 64) || 1,
    maxColdMs: positive(values['max-cold-ms'], 'max-cold-ms', 5),
    keeps: numbers(values.keep ?? (quick ? '100' : '100,1000,10000'), 'keep').filter((k) => k > 0),
    outDir: values.out ?? `loadtest/results/${now.toISOString().replace(/[:.]/g, '-')}-snapshots`,
  };
};
