import type { Sql } from '../database/connect.js';
import type { Logger } from '../logger.js';

/** The PostgreSQL channel on which projectors are told that events were appended. */
export const EVENTS_APPENDED_CHANNEL = 'seat_surge_events';

/**
 * When the next wake-up may go, given when the last one went: now (0), or after how many ms.
 * At most one per `intervalMs`; 0 sends one after every append.
 */
export const wakeUpDelay = (lastSentAt: number, now: number, intervalMs: number): number =>
  Math.max(0, lastSentAt + intervalMs - now);

export type ProjectorWakeUps = {
  /** Tells of a committed append: a wake-up goes now, or at the end of the interval (only one waits). */
  appended(): void;
  /** Sends the wake-up still waiting, if any, at once (the process is stopping). */
  flush(): void;
};

/**
 * Wakes the projectors of every process after appends, at most once per `intervalMs` from this
 * process, and always after the last append: a NOTIFY on `EVENTS_APPENDED_CHANNEL`, sent on the
 * pool after the append committed. Under load a projector polls while it finds events (see
 * Projector) and needs no wake-up, so a surge of appends costs a few NOTIFYs a second instead
 * of one at every append's commit, each waking every listening backend and projector process
 * (the statement trigger this replaces). The price: a projector asleep hears of an append up
 * to `intervalMs` later. A lost wake-up (the database was away) delays the views until the
 * projector's poll.
 */
export const createProjectorWakeUps = (
  sql: Sql,
  { intervalMs, log, now = () => performance.now() }: { intervalMs: number; log: Logger; now?: () => number },
): ProjectorWakeUps => {
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let waiting: NodeJS.Timeout | undefined;
  const send = () => {
    clearTimeout(waiting);
    waiting = undefined;
    lastSentAt = now();
    sql`select pg_notify(${EVENTS_APPENDED_CHANNEL}, '')`.catch((error: unknown) =>
      log.debug({ err: error }, 'projector wake-up not sent; the projectors poll'),
    );
  };
  return {
    appended() {
      if (waiting) return;
      const delay = wakeUpDelay(lastSentAt, now(), intervalMs);
      if (delay === 0) send();
      else waiting = setTimeout(send, delay);
    },
    flush() {
      if (waiting) send();
    },
  };
};
