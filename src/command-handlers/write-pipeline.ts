import type { AppendResult, RecordedEvent, StreamAppend } from '../event-store/event-store.js';
import { KeysExistError } from '../event-store/keys-exist-error.js';
import { VersionConflictError } from '../event-store/version-conflict-error.js';
import type { Metrics } from '../metrics.js';
import {
  ABSENT,
  reservationIdOfCommand,
  reservationsOf,
  streamIdOf,
  toSeatAvailabilityEvent,
  type Reservation,
  type SeatAvailabilityEvent,
} from '../seat-availability/index.js';
import type { VersionedState } from '../snapshots/index.js';
import { settle, type Pending } from './command-outcome.js';
import { decideBatch, type BatchDecision } from './decide-batch.js';
import { RecentReservations } from './recent-reservations.js';
import { retryOrBusy, type RetryPolicy, type RetryTiming } from './retry-policy.js';
import { catchUp, loadSeatAvailability, toNewEvent, type StreamDeps } from './seat-availability-stream.js';

/** What carrying out a command needs: the stream's store and snapshots, the metrics, and the retry policy. */
export type CommandDeps = StreamDeps & RetryTiming & { metrics: Metrics; retry: RetryPolicy };

/** What the write pipeline needs besides: how a batch is appended, and a test seam. */
export type PipelineDeps = CommandDeps & {
  /**
   * Appends one conference's batch: alone (the direct path) or with other conferences' (group
   * commit). Rejects with `VersionConflictError` or `KeysExistError` when the batch's own
   * conditions fail, nothing of it appended.
   */
  append: (append: StreamAppend) => Promise<AppendResult>;
  /** Test seam: runs after a batch's append has committed and before anyone is answered. */
  afterAppend?: (events: SeatAvailabilityEvent[]) => Promise<void>;
};

/**
 * What is kept of a conference between batches: its seat counts at a version (the whole state,
 * a few numbers whatever the history) and what is known of its recent reservations at that
 * version. A conference's writer keeps one; the direct path starts every command with an empty
 * one (`noCache`).
 */
export type ConferenceCache = { state: VersionedState | undefined; reservations: RecentReservations };

/** A cache that holds nothing: the conference is loaded, and what its reservations are is asked of the store. */
export const noCache = (): ConferenceCache => ({ state: undefined, reservations: new RecentReservations(0) });

/** Where one attempt decides: a state, what is known there of the batch's reservations, and whether it is known current. */
type Base = { at: VersionedState; known: Map<string, Reservation>; unknown: string[]; verified: boolean };

/**
 * How an attempt ended: its decision committed (appended, or shown to stand on the stream's
 * current state), or stale: the stream had moved (a version conflict on append, or a cached
 * state found behind), or reservations decided as new exist after all (`found`, at the same
 * version).
 */
type Attempt =
  | { kind: 'committed'; decision: BatchDecision; committed: VersionedState }
  | { kind: 'stale'; reason: 'version_conflict' | 'stream_moved' }
  | { kind: 'stale'; reason: 'keys_exist'; asked: string[]; found: RecordedEvent[] };

/**
 * Decides a batch against `base`, then makes the decision true in the store at `base`'s version:
 * appends its events, or, with nothing to append, makes sure `base` is the stream's current
 * state. Reservation ids `base` knows nothing of are decided as new: the append requires them
 * new (the statement that checks the version), and a batch that appends nothing looks them up.
 */
const attemptBatch = async (deps: PipelineDeps, streamId: string, base: Base, batch: Pending[]): Promise<Attempt> => {
  const decision = decideBatch(base.at.state, batch, base.known);
  // A conference that does not exist yet has no reservations to require new or look up.
  const newKeys = base.at.state.status === 'open' ? base.unknown : [];
  if (decision.events.length > 0) return appendDecision(deps, streamId, base.at, decision, newKeys);
  return confirmBase(deps, streamId, base, newKeys, decision);
};

/** Appends a decision's events at the version it was decided on; the one place an append is followed up. */
const appendDecision = async (
  deps: PipelineDeps,
  streamId: string,
  from: VersionedState,
  decision: BatchDecision,
  newKeys: string[],
): Promise<Attempt> => {
  let appended: AppendResult;
  try {
    const events = decision.events.map(({ event, metadata }) => toNewEvent(event, metadata));
    appended = await deps.append({ streamId, expectedVersion: from.version, events, newKeys });
  } catch (error) {
    if (error instanceof VersionConflictError) return { kind: 'stale', reason: 'version_conflict' };
    if (!(error instanceof KeysExistError)) throw error;
    return { kind: 'stale', reason: 'keys_exist', asked: newKeys, found: error.events };
  }
  await deps.afterAppend?.(decision.events.map(({ event }) => event));
  const committed = { state: decision.state, ...appended };
  // The snapshot policy is asked here after every append, and only here; a snapshot write never fails a command.
  deps.snapshots.afterAppend(streamId, from.version, committed);
  return { kind: 'committed', decision, committed };
};

/**
 * A decision that appends nothing stands if its base is the stream's current state and the
 * reservations it decided as new have no events. One read shows both: the lookup of those ids as
 * of the base's version, which reads the stream's version too, or else the version alone; none
 * when there is nothing to look up and the base was read from the store during this batch
 * (current as of that read). A cached base is current only if the version read is its own:
 * another process, or the direct path, may have moved the stream.
 */
const confirmBase = async (
  deps: PipelineDeps,
  streamId: string,
  base: Base,
  keys: string[],
  decision: BatchDecision,
): Promise<Attempt> => {
  const committed: Attempt = { kind: 'committed', decision, committed: base.at };
  if (keys.length === 0 && base.verified) return committed;
  const { version, events } =
    keys.length > 0
      ? await deps.eventStore.readByKeys(streamId, keys, base.at.version)
      : { version: await deps.eventStore.streamVersion(streamId), events: [] };
  if (!base.verified && version !== base.at.version) return { kind: 'stale', reason: 'stream_moved' };
  if (events.length > 0) return { kind: 'stale', reason: 'keys_exist', asked: keys, found: events };
  return committed;
};

/**
 * Attempts a batch until it commits: the one retry loop of both write paths. Reservations that
 * exist after all are learnt and the batch decided again at once: the stream has not moved, so
 * that is no retry. A stream that moved is a retry (retry-policy.ts: counted, given up with busy
 * after the last, taken after a jittered backoff), decided on the state caught up from the store.
 */
const commitBatch = async (deps: PipelineDeps, conferenceId: string, cache: ConferenceCache, batch: Pending[]) => {
  const streamId = streamIdOf(conferenceId);
  const learnt = new Map<string, Reservation>();
  // Whether a read since the cache was last trusted has shown it current: a load, a catch-up, or
  // a statement that compared the stream's version with it.
  let verified = cache.state === undefined;
  for (let retries = 0; ;) {
    const at = (cache.state ??= await loadSeatAvailability(deps, conferenceId));
    const attempt = await attemptBatch(deps, streamId, { at, ...knownOf(cache, batch, learnt), verified }, batch);
    if (attempt.kind === 'committed') return attempt;
    // Every stale attempt read the stream's version: the state is current, or is caught up below.
    verified = true;
    if (attempt.reason === 'keys_exist') {
      learn(learnt, attempt.asked, attempt.found);
      continue;
    }
    (attempt.reason === 'version_conflict' ? deps.metrics.versionConflicts : deps.metrics.staleCaches).inc();
    learnt.clear();
    await retryOrBusy(retries++, deps.retry, deps.metrics, deps);
    await catchUpCache(deps, conferenceId, cache, at);
  }
};

/**
 * What is known of the batch's reservations: what was learnt while deciding it, else what the
 * cache holds; `unknown` are the ids of neither.
 */
const knownOf = (cache: ConferenceCache, batch: Pending[], learnt: Map<string, Reservation>) => {
  const known = new Map<string, Reservation>();
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const { command } of batch) {
    const id = reservationIdOfCommand(command);
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    const reservation = learnt.get(id) ?? cache.reservations.get(id);
    if (reservation) known.set(id, reservation);
    else unknown.push(id);
  }
  return { known, unknown };
};

/** Folds found events into what is learnt; every id asked for and not found is absent. */
const learn = (learnt: Map<string, Reservation>, asked: string[], found: RecordedEvent[]) => {
  for (const id of asked) learnt.set(id, ABSENT);
  reservationsOf(found.map(toSeatAvailabilityEvent), learnt);
};

/** The stream moved: bring the cached counts, and the reservations held, up to date from the store. */
const catchUpCache = async (deps: StreamDeps, conferenceId: string, cache: ConferenceCache, from: VersionedState) => {
  const { caughtUp, events } = await catchUp(deps, conferenceId, from);
  for (const [id, reservation] of reservationsOf(events)) {
    if (reservation.status !== 'absent' && cache.reservations.has(id)) cache.reservations.set(id, reservation);
  }
  cache.state = caughtUp;
};

/**
 * Decides a batch of commands for one conference and makes its outcome true in the store, at
 * the stream's current version, then answers each caller with its own outcome; the one write
 * path of the batched writer and the direct path (a batch of one, `noCache`). When the batch
 * fails (busy, or the database failed mid-append) every caller gets the error, and the cache is
 * forgotten: what the store holds is unknown, so the next batch loads it again.
 */
export const processBatch = async (
  deps: PipelineDeps,
  conferenceId: string,
  cache: ConferenceCache,
  batch: Pending[],
): Promise<void> => {
  try {
    const { decision, committed } = await commitBatch(deps, conferenceId, cache, batch);
    cache.state = committed;
    for (const [id, reservation] of decision.reservations) {
      if (reservation.status !== 'absent') cache.reservations.set(id, reservation);
    }
    batch.forEach((pending, i) => {
      const result = decision.results[i]!;
      settle(deps.metrics, pending, { outcome: result.kind === 'rejected' ? result : { ...result, ...committed } });
    });
  } catch (error) {
    cache.state = undefined;
    cache.reservations = new RecentReservations(cache.reservations.capacity);
    for (const pending of batch) settle(deps.metrics, pending, { error });
  }
};
