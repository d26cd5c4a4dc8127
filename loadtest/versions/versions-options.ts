import { parseArgs } from 'node:util';
import { UsageRequested } from '../options.js';

export type VersionsOptions = {
  /** Events in each of the two streams. */
  length: number;
  /** Measured rounds, each a cold load of either stream; one more round before them warms up and is discarded. */
  rounds: number;
  /** The seed of the history both streams are written from. */
  seed: number;
  outDir: string;
};

/** Issue 28's target: the mixed stream's median cold load at most this many times the all-current one's. */
export const TARGET_RATIO = 1.1;

export const VERSIONS_USAGE = `npm run bench:versions -- [options]

  --length 100k     events in each stream (k and m suffixes); the mixed one has its first half in version 1
  --rounds 15       measured rounds, each a cold load of both streams in turn, after one warm-up round
  --seed 1          the seed of the seat-moving history both streams are written from
  --out DIR         where reports go (default loadtest/results/<timestamp>-versions)
  --help            this text

Without DATABASE_URL it starts an embedded PostgreSQL of its own (.data/bench-versions, port 54332).`;

/** A whole number of at least `min`, with `k` and `m` suffixes. */
const whole = (text: string | undefined, name: string, fallback: number, min: number) => {
  if (text === undefined) return fallback;
  const n = Number(text.replace(/k$/i, '000').replace(/m$/i, '000000'));
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number of at least ${min} (got "${text}")`);
  return n;
};

export const parseVersionsOptions = (argv: string[], now = new Date()): VersionsOptions => {
  const { values } = parseArgs({
    args: argv,
    options: {
      length: { type: 'string' },
      rounds: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageRequested();
  return {
    // Four events at least: the conference, and a reservation in each half.
    length: whole(values.length, 'length', 100_000, 4),
    rounds: whole(values.rounds, 'rounds', 15, 1),
    seed: whole(values.seed, 'seed', 1, 1),
    outDir: values.out ?? `loadtest/results/${now.toISOString().replace(/[:.]/g, '-')}-versions`,
  };
};
