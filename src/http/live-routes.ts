import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { EventStore } from '../event-store/event-store.js';
import type { Logger } from '../logger.js';
import type { ReadModel, ViewsChanged } from '../projections/index.js';
import { streamIdOf } from '../seat-availability/index.js';
import type { AppEnv } from './app-env.js';
import { rejectionProblem } from './problem.js';
import { valid } from './request.js';
import { conferenceIdSchema } from './schemas.js';

export type LiveTiming = {
  /** Reads of the view for one connection are at least this far apart (a burst of batches costs ~5 reads a second). */
  minReadIntervalMs: number;
  /** Re-read this often without a signal: a notification is lost while the LISTEN connection is down. */
  recheckMs: number;
  /** A comment this often keeps proxies and browsers from closing a quiet connection. */
  heartbeatMs: number;
};

export const LIVE_TIMING: LiveTiming = { minReadIntervalMs: 200, recheckMs: 2000, heartbeatMs: 15_000 };

export type LiveDeps = {
  eventStore: EventStore;
  readModel: Pick<ReadModel, 'availability'>;
  viewsChanged: Pick<ViewsChanged, 'subscribe'>;
  /** Aborted when the server shuts down: open streams end so the server can close. */
  closing: AbortSignal;
  log: Logger;
  timing?: Partial<LiveTiming>;
};

/**
 * A conference's availability as Server-Sent Events: an `availability` event with the view (the
 * body of GET /conferences/:id/availability) on connect, and again whenever its position moves.
 */
export const liveRoutes = (deps: LiveDeps) => {
  const timing = { ...LIVE_TIMING, ...deps.timing };
  return new Hono<AppEnv>().get('/:id/stream', async (c) => {
    const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
    // Only a conference without a single event is unknown; one not projected yet is waited for.
    if ((await deps.eventStore.streamVersion(streamIdOf(conferenceId))) === 0) {
      throw rejectionProblem({ kind: 'conference_not_found', conferenceId });
    }
    const requestId = c.get('requestId');
    const response = streamSSE(c, async (stream) => {
      try {
        await sendAvailability(stream, conferenceId, deps, timing);
      } catch (error) {
        // The answer has started, so no Problem can follow: log it and end the stream (the
        // browser's EventSource reconnects by itself).
        deps.log.error({ err: error, requestId, conferenceId }, 'live stream failed');
      }
    });
    // The connection is not kept for another request when the stream ends: a server shutting
    // down then closes at once, and a reconnecting browser pays one new connection.
    response.headers.set('Connection', 'close');
    return response;
  });
};

/** The loop of one connection; returns when the client disconnects or the server shuts down. */
const sendAvailability = async (
  stream: SSEStreamingApi,
  conferenceId: string,
  { readModel, viewsChanged, closing }: LiveDeps,
  timing: LiveTiming,
) => {
  const streamId = streamIdOf(conferenceId);
  let ended = closing.aborted;
  let changed = false;
  let wake = () => {};
  const end = () => {
    ended = true;
    wake();
  };
  stream.onAbort(end);
  closing.addEventListener('abort', end);
  const unsubscribe = viewsChanged.subscribe((streamIds) => {
    if (!streamIds.has(streamId)) return;
    changed = true;
    wake();
  });

  /** Sleeps up to `ms`; the end of the connection, or a change when `untilChange`, wakes it early. */
  const sleep = (ms: number, untilChange: boolean) =>
    new Promise<void>((done) => {
      const due = () => ended || (untilChange && changed);
      if (ms <= 0 || due()) return done();
      const timer = setTimeout(finish, ms);
      wake = () => {
        if (due()) finish();
      };
      function finish() {
        clearTimeout(timer);
        wake = () => {};
        done();
      }
    });

  try {
    let sentPosition: number | undefined;
    let lastWriteAt = Date.now();
    while (!ended) {
      const readAt = Date.now();
      // Cleared before the read, so a batch committed while reading still wakes the next one.
      changed = false;
      const view = await readModel.availability(conferenceId);
      if (view && view.position !== sentPosition) {
        await stream.writeSSE({ event: 'availability', data: JSON.stringify(view) });
        sentPosition = view.position;
        lastWriteAt = Date.now();
      } else if (Date.now() - lastWriteAt >= timing.heartbeatMs) {
        await stream.write(': heartbeat\n\n');
        lastWriteAt = Date.now();
      }
      await sleep(Math.min(timing.recheckMs, lastWriteAt + timing.heartbeatMs - Date.now()), true);
      await sleep(readAt + timing.minReadIntervalMs - Date.now(), false);
    }
  } finally {
    unsubscribe();
    closing.removeEventListener('abort', end);
  }
};
