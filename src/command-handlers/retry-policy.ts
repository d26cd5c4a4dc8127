import type { Metrics } from '../metrics.js';
import { BusyError } from './busy-error.js';

/** How often and how patiently a command is retried after a version conflict. */
export type RetryPolicy = { maxRetries: number; baseDelayMs: number; maxDelayMs: number };

/**
 * Exponential backoff with full jitter: the delay before retry `attempt` (0-based) is uniform in
 * [0, min(max, base * 2^attempt)). Jitter spreads the losers of a conflict apart, so they do
 * not collide again on the next try.
 */
export const backoffDelay = (attempt: number, policy: RetryPolicy, random: () => number): number =>
  random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);

/** The Retry-After a busy caller is given: the longest backoff, rounded up to whole seconds. */
export const retryAfterSeconds = (policy: RetryPolicy): number => Math.max(1, Math.ceil(policy.maxDelayMs / 1000));

/** How a retry waits; injected so tests can retry without waiting. */
export type RetryTiming = { sleep?: (ms: number) => Promise<void>; random?: () => number };

const defaultSleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * The one retry rule of both write paths: a command decided on a stream that has moved since is
 * decided again, `attempt` (0-based) being the retry about to start, after its jittered backoff,
 * until `maxRetries` retries are spent; then the caller is told to come back (BusyError), never
 * answered from stale state.
 */
export const retryOrBusy = async (
  attempt: number,
  policy: RetryPolicy,
  metrics: Pick<Metrics, 'retries' | 'retriesExhausted'>,
  { sleep = defaultSleep, random = Math.random }: RetryTiming = {},
): Promise<void> => {
  if (attempt >= policy.maxRetries) {
    metrics.retriesExhausted.inc();
    throw new BusyError(retryAfterSeconds(policy));
  }
  metrics.retries.inc();
  await sleep(backoffDelay(attempt, policy, random));
};
