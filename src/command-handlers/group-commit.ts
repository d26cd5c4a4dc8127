import type { AppendResult, EventStore, StreamAppend } from '../event-store/event-store.js';

export type GroupCommitOptions = {
  /**
   * Multi-conference appends in flight at once. A batch that finds one free goes out at once,
   * alone if it is alone; batches that arrive while all are busy wait and go out together in
   * the next one. Fewer than the pool's connections, or nothing would ever wait to be grouped.
   */
  appendsInFlight: number;
  /** Most conferences one append carries. */
  maxConferences: number;
  /** Most events one append carries (a larger batch still goes, alone). */
  maxEvents: number;
  /**
   * A batch of at least this many events is a hot conference's: it goes out at once in a
   * statement of its own, beside the appends in flight, rather than wait for one of them to end
   * and then share a longer statement with many quiet conferences. 0: every batch is grouped.
   */
  aloneFromEvents: number;
};

/**
 * The defaults (and GROUP_COMMIT_* in config.ts): two appends in flight measured best on 2 cores
 * (docs/results.md, spread and hotspot); a machine with more cores for PostgreSQL may want more.
 */
export const GROUP_COMMIT_DEFAULTS: GroupCommitOptions = {
  appendsInFlight: 2,
  maxConferences: 64,
  maxEvents: 2048,
  aloneFromEvents: 8,
};

/** What the group commit counts: conferences and events per append. */
export type GroupCommitMetrics = {
  appendConferences: { observe: (value: number) => void };
  appendEvents: { observe: (value: number) => void };
};

type Waiting = { append: StreamAppend; resolve: (result: AppendResult) => void; reject: (error: unknown) => void };

/**
 * The next group: the waiting appends from the front, oldest first, up to the limits; the first
 * always goes. A second append to a stream already in the group waits for the next one (one
 * statement claims each stream once; a conference's writer has one append in flight anyway).
 */
export const takeGroup = <T extends { append: Pick<StreamAppend, 'streamId' | 'events'> }>(
  waiting: readonly T[],
  { maxConferences, maxEvents }: Pick<GroupCommitOptions, 'maxConferences' | 'maxEvents'>,
): { group: T[]; rest: T[] } => {
  const group: T[] = [];
  const rest: T[] = [];
  const streams = new Set<string>();
  let events = 0;
  for (const item of waiting) {
    const { streamId, events: its } = item.append;
    const fits =
      group.length === 0 ||
      (group.length < maxConferences && events + its.length <= maxEvents && !streams.has(streamId));
    if (!fits) {
      rest.push(item);
      continue;
    }
    group.push(item);
    streams.add(streamId);
    events += its.length;
  }
  return { group, rest };
};

/** Appends a group in one statement and settles each of its appends with its own outcome. */
const commitGroup = async (
  group: Waiting[],
  appendStreams: EventStore['appendStreams'],
  metrics: GroupCommitMetrics,
): Promise<void> => {
  metrics.appendConferences.observe(group.length);
  metrics.appendEvents.observe(group.reduce((sum, { append }) => sum + append.events.length, 0));
  try {
    const outcomes = await appendStreams(group.map(({ append }) => append));
    group.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined || outcome instanceof Error) reject(outcome ?? new Error('no outcome for an append'));
      else resolve(outcome);
    });
  } catch (error) {
    // The statement failed as a whole (e.g. the database went away): nothing was appended.
    for (const { reject } of group) reject(error);
  }
};

/**
 * Group commit across conferences: the conference writers' decided batches go to PostgreSQL
 * together, in one statement and one transaction (`appendStreams`), so many quiet conferences
 * pay for one commit between them, as the commands of one hot conference already do within its
 * batch. Each batch keeps its own expected-version check and its own outcome: a conflict on one
 * conference rejects that batch alone (its writer catches up and decides again).
 *
 * Nothing waits for company: a batch goes out at once while fewer than `appendsInFlight`
 * appends are running; only batches that arrive while all are busy are grouped, as the commands
 * of a conference are grouped while its previous batch is being appended. A hot conference's
 * batch (`aloneFromEvents` events or more) already pays for its commit by itself: it goes out at
 * once in a statement of its own, so the hot conference's commands never wait behind quiet ones.
 */
export const createGroupCommit = (
  appendStreams: EventStore['appendStreams'],
  options: GroupCommitOptions,
  metrics: GroupCommitMetrics,
) => {
  let waiting: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  const commit = (group: Waiting[]) => commitGroup(group, appendStreams, metrics);

  const send = () => {
    scheduled = false;
    while (inFlight < options.appendsInFlight && waiting.length > 0) {
      const { group, rest } = takeGroup(waiting, options);
      waiting = rest;
      inFlight++;
      void commit(group).finally(() => {
        inFlight--;
        send();
      });
    }
  };

  return {
    /**
     * Appends one conference's batch, with the others waiting at that moment; resolves once the
     * statement carrying it has committed. Rejects with `VersionConflictError` or
     * `KeysExistError` when that batch's own conditions failed (nothing of it appended).
     */
    append(append: StreamAppend): Promise<AppendResult> {
      return new Promise<AppendResult>((resolve, reject) => {
        if (options.aloneFromEvents > 0 && append.events.length >= options.aloneFromEvents) {
          // A hot conference has at most one batch in flight, so these statements are bounded by
          // the number of hot conferences (and the pool): they never take a grouped append's turn.
          void commit([{ append, resolve, reject }]);
          return;
        }
        waiting.push({ append, resolve, reject });
        // On the next microtask: batches decided in the same turn go out together.
        if (!scheduled && inFlight < options.appendsInFlight) {
          scheduled = true;
          queueMicrotask(send);
        }
      });
    },
  };
};

export type GroupCommit = ReturnType<typeof createGroupCommit>;
