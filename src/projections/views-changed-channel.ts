import type postgres from 'postgres';
import type { Queryable, Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';
import type { AppliedBatch } from './projection-contract.js';
import type { ViewsChanged } from './views-changed.js';

/**
 * The PostgreSQL channel on which the remaining-seats projector names the streams whose views a
 * committed batch changed, so every API process can wake its live readers, whichever process
 * leads the projection.
 */
export const VIEWS_CHANGED_CHANNEL = 'seat_surge_views_changed';

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;

/** Between the stream ids of a payload: a stream id has none (conference ids are letters, digits and dashes). */
const SEPARATOR = '\n';

/**
 * The stream ids as NOTIFY payloads of at most `maxBytes` each, in order. An id too long for a
 * payload of its own is left out: its readers see the change at their periodic re-check, whereas
 * a NOTIFY that fails would roll the batch back, and the next one, for ever.
 */
export const notificationPayloads = (streamIds: readonly string[], maxBytes = MAX_PAYLOAD_BYTES): string[] => {
  const payloads: string[] = [];
  let ids: string[] = [];
  let bytes = 0;
  for (const id of streamIds) {
    const size = Buffer.byteLength(id);
    if (size > maxBytes) continue;
    if (ids.length > 0 && bytes + 1 + size > maxBytes) {
      payloads.push(ids.join(SEPARATOR));
      ids = [];
    }
    bytes = ids.length === 0 ? size : bytes + 1 + size;
    ids.push(id);
  }
  if (ids.length > 0) payloads.push(ids.join(SEPARATOR));
  return payloads;
};

/** The stream ids one payload names. */
export const streamIdsOf = (payload: string): string[] => payload.split(SEPARATOR);

/**
 * Names the batch's streams on the channel from inside its transaction: PostgreSQL delivers the
 * notifications when the transaction commits, and drops them when it rolls back.
 */
export const announceViewsChanged = async (tx: Queryable, { streamIds }: Pick<AppliedBatch, 'streamIds'>) => {
  const payloads = notificationPayloads(streamIds);
  if (payloads.length === 0) return;
  await tx`select pg_notify(${VIEWS_CHANGED_CHANNEL}, payload) from unnest(${payloads}::text[]) as payload`;
};

/**
 * Raises this process's `viewsChanged` signal for every batch any projector process commits
 * (the driver listens on a connection of its own, outside the pool). `start()` subscribes;
 * `resubscribe()` does so anew, for when the database answers again after an outage: the
 * driver subscribes again by itself after a lost connection only if the database answers at
 * that moment. Without a subscription, live readers still see changes at their re-check.
 */
export const listenForChangedViews = ({
  sql,
  viewsChanged,
  log,
}: {
  sql: Sql;
  viewsChanged: Pick<ViewsChanged, 'notify' | 'listenerCount'>;
  log: Logger;
}) => {
  let stopped = true;
  let listening: postgres.ListenMeta | undefined;
  // One subscription at a time: each waits for the previous one to settle.
  let subscribing: Promise<void> = Promise.resolve();

  const subscribe = async () => {
    const previous = listening;
    listening = undefined;
    await previous?.unlisten().catch(() => {});
    if (stopped) return;
    // A payload may name hundreds of streams; with no live reader in this process (the usual case
    // under load) it is not split into a set nobody reads.
    const changed = (payload: string) => {
      if (viewsChanged.listenerCount > 0) viewsChanged.notify(new Set(streamIdsOf(payload)));
    };
    const subscribed = await sql.listen(VIEWS_CHANGED_CHANNEL, changed).catch((error: unknown) => {
      log.warn({ err: error }, 'cannot LISTEN for changed views; live readers re-check only');
      return undefined;
    });
    if (stopped) await subscribed?.unlisten().catch(() => {});
    else listening = subscribed;
  };
  const queue = () => (subscribing = subscribing.then(subscribe));

  return {
    start(): Promise<void> {
      stopped = false;
      return queue();
    },
    resubscribe(): void {
      if (!stopped) void queue();
    },
    stop(): Promise<void> {
      stopped = true;
      return queue();
    },
  };
};

export type ChangedViewsListener = ReturnType<typeof listenForChangedViews>;
