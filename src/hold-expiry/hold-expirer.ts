import { BusyError, type CommandOutcome } from '../command-handlers/index.js';
import type { Queryable, Sql } from '../database/connect.js';
import { LeaderLock } from '../database/leader-lock.js';
import type { Logger } from '../logger.js';

/** Holds whose due time has passed, as the reservations view shows them: what the expirer acts on. */
export type DueHold = { conferenceId: string; reservationId: string; expiresAt: Date };

export type HoldExpirerOptions = {
  sql: Sql;
  log: Logger;
  /** Sends ExpireHold through the conference's writer, the path of every command. */
  expireHold: (hold: { conferenceId: string; reservationId: string }) => Promise<CommandOutcome>;
  clock: () => Date;
  /** How often due holds are looked for, and how soon a new leader takes over. */
  pollIntervalMs: number;
  /** Most holds expired in one round; a full round goes again at once. */
  batchSize?: number;
  /** Told of every hold this expirer expired, with how late it was (ms past its due time). */
  onExpired?: (lateMs: number) => void;
};

/** The advisory lock whose holder is the one expirer among all processes. */
const EXPIRER_LOCK = 72_630_021;
const DEFAULT_BATCH_SIZE = 500;

/**
 * The pending holds due at `now`, oldest due first. The due time comes from the events alone
 * (SeatsHeld, as the reservations view holds it), so it survives a kill of every process: after
 * a restart the holds that fell due meanwhile are found on the first round.
 */
export const readDueHolds = (sql: Queryable, now: Date, limit: number): Promise<DueHold[]> =>
  sql<DueHold[]>`
    select conference_id as "conferenceId", reservation_id as "reservationId", expires_at as "expiresAt"
    from reservations_view
    where status = 'held' and expires_at <= ${now}
    order by expires_at
    limit ${limit}`;

/**
 * Returns the seats of holds whose time is up. One process at a time expires (a leader lock, as
 * each projector has): it reads the due holds and sends each an ExpireHold through the
 * conference's own writer, so batching and the stale-cache rule hold for expiries as for every
 * command; the domain decides, and an expiry that is early or stale (confirmed, released or
 * expired meanwhile) changes nothing. No hold expires twice: HoldExpired is decided only while
 * the hold is pending. Owns a lifecycle: `start()` and `stop()`.
 */
export class HoldExpirer {
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: () => void = () => {};
  readonly #leader: LeaderLock;
  /** Holds this expirer has expired, still shown as held while the view catches up: not sent again. */
  #expired = new Set<string>();

  constructor(private readonly options: HoldExpirerOptions) {
    this.#leader = new LeaderLock(options.sql, EXPIRER_LOCK);
  }

  get isLeader(): boolean {
    return this.#leader.held;
  }

  start(): this {
    if (!this.#stopped) return this;
    this.#stopped = false;
    this.#loop = this.#run();
    return this;
  }

  /** Stops after the round in progress and gives up leadership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake();
    await this.#loop;
    await this.#leader.release();
  }

  /** One round: expires the holds due at the clock's time; how many it expired. Tests call it directly. */
  async expireDue(): Promise<number> {
    const { sql, clock, expireHold, onExpired } = this.options;
    const now = clock();
    // Past the holds already expired that the view still shows held, so they never fill a round.
    const due = await readDueHolds(sql, now, (this.options.batchSize ?? DEFAULT_BATCH_SIZE) + this.#expired.size);
    const seen = new Set(due.map(keyOf));
    // A hold the view no longer shows as held needs remembering no more.
    for (const key of this.#expired) if (!seen.has(key)) this.#expired.delete(key);
    const outcomes = await Promise.allSettled(
      due
        .filter((hold) => !this.#expired.has(keyOf(hold)))
        .map(async (hold) => {
          const outcome = await expireHold(hold);
          this.#expired.add(keyOf(hold));
          if (outcome.kind === 'accepted' && outcome.appended > 0) {
            onExpired?.(now.getTime() - hold.expiresAt.getTime());
            return 1;
          }
          return 0;
        }),
    );
    const failed = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    // Those holds are still due, and the next round tries again. Busy is the writer's admission
    // refusing while its conference is overloaded: expected in a surge, not worth a warning.
    const unexpected = failed.filter((error) => !(error instanceof BusyError));
    if (unexpected.length > 0) {
      this.options.log.warn({ err: unexpected[0], failed: failed.length }, 'some due holds were not expired; retrying');
    } else if (failed.length > 0) {
      this.options.log.debug({ failed: failed.length }, 'writers busy; their due holds are retried next round');
    }
    return outcomes.reduce((sum, outcome) => sum + (outcome.status === 'fulfilled' ? outcome.value : 0), 0);
  }

  async #run(): Promise<void> {
    const { log, pollIntervalMs } = this.options;
    let failures = 0;
    while (!this.#stopped) {
      try {
        const wasLeader = this.#leader.held;
        if (await this.#leader.take()) {
          if (!wasLeader) log.info('hold expirer is now the leader');
          const expired = await this.expireDue();
          failures = 0;
          if (expired === (this.options.batchSize ?? DEFAULT_BATCH_SIZE)) continue;
        }
      } catch (error) {
        if (this.#stopped) break;
        log[failures++ === 0 ? 'warn' : 'debug']({ err: error }, 'hold expirer round failed; resigning and retrying');
        await this.#leader.release();
      }
      await this.#sleep(pollIntervalMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        done();
      }
      this.#wake = finish;
    });
  }
}

const keyOf = ({ conferenceId, reservationId }: { conferenceId: string; reservationId: string }) =>
  `${conferenceId}\u0000${reservationId}`;
