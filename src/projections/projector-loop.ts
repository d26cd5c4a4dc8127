import { setTimeout as delay } from 'node:timers/promises';
import type postgres from 'postgres';
import type { Queryable, Sql } from '../database/connect.js';
import { LeaderLock, RESERVE_TIMEOUT_MS, reserveWithin } from '../database/leader-lock.js';
import { EVENTS_APPENDED_CHANNEL } from '../event-store/projector-wake-ups.js';
import type { Logger } from '../logger.js';
import { LIVE_VIEWS } from './view-tables.js';
import { createEventStore } from '../event-store/event-store.js';
import { applyStatements } from './apply-range.js';
import { projectionLag, storedCheckpoint, writeCheckpoint, type ProjectionLag } from './checkpoint.js';
import type { AppliedBatch, Projection } from './projection-contract.js';

/** How long a failed batch waits for its rollback before it gives its connection back. */
const ROLLBACK_WAIT_MS = 1000;

export type ProjectorOptions = {
  sql: Sql;
  log: Logger;
  /** The projection this projector keeps up to date (its views, checkpoint and locks). */
  projection: Projection;
  /** Most events applied in one transaction. */
  batchSize: number;
  /** How often to look for events when no notification arrives, and to try for leadership. */
  pollIntervalMs: number;
  /**
   * Least time from one batch to the next unless a batch was full. Each batch costs a few
   * statements whatever its size; under a surge, notifications come without pause and a
   * projector applying a handful of events per batch took CPU from the commands on a 2-core
   * machine. The view's lag grows by up to this much.
   */
  minBatchIntervalMs?: number;
  /** Called inside each batch's transaction before it commits; a throw rolls the batch back (tests simulate crashes). */
  beforeCommit?: (batch: AppliedBatch) => Promise<void> | void;
  onApplied?: (count: number) => void;
  /**
   * Sent inside each batch's transaction, together with its checkpoint write, with what the
   * batch applies: a NOTIFY there is delivered when the batch commits, never for one rolled back.
   */
  announce?: (tx: Queryable, batch: AppliedBatch) => Promise<unknown>;
};

/**
 * Keeps one projection's views up to date from the event store. Owns a lifecycle: `start()` begins
 * trying to become the one instance that applies its events (PostgreSQL advisory lock), polls while it
 * finds events, sleeps until appends wake it (NOTIFY) when it finds none, and polls as a fallback;
 * `stop()` ends it between batches.
 */
export class Projector {
  #stopped = true;
  readonly #leader: LeaderLock;
  #loop: Promise<void> | undefined;
  #wake: () => void = () => {};
  /** A notification came while no one was waiting for it. */
  #notified = false;
  #listening: postgres.ListenMeta | undefined;
  #subscribing: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProjectorOptions) {
    // Its connection is checked once per poll interval, not before every batch: two leaders for
    // that long apply batches one after the other (each takes the batch lock), never one twice.
    this.#leader = new LeaderLock(options.sql, options.projection.locks.leader, options.pollIntervalMs);
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

  /** Stops after the batch in progress (if any) has committed, and gives up leadership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake();
    await this.#loop;
    await this.#listening?.unlisten().catch(() => {});
    this.#listening = undefined;
    await this.#resign();
  }

  /**
   * Applies the next batch in one transaction with the checkpoint, and returns how many events
   * it applied. A failure anywhere rolls back both: nothing is lost and nothing applied twice.
   *
   * Two round trips, each a pipeline that the connection runs in order: the transaction's start,
   * the batch lock, and the statement that reads the checkpoint and chooses the batch (as of
   * after the lock: READ COMMITTED takes each statement's snapshot when it starts); then the
   * views' statements, the checkpoint, the announcement and the commit. Should a statement of
   * the second fail, the transaction is aborted and PostgreSQL ends it with a rollback at the
   * COMMIT sent behind it. Each round trip costs a wake-up of both processes, and a writing
   * transaction holds back the settled horizon of every projection until it commits (see
   * settledBatch): a batch used to take five, and this process was a fifth busier for them in a
   * surge (docs/results.md, where the CPU goes).
   */
  async applyNextBatch(): Promise<number> {
    const { sql, projection, batchSize, beforeCommit, onApplied, announce } = this.options;
    // Bounded: after a database restart the driver can lose a reserve, and the loop would wait for ever.
    const tx = await reserveWithin(sql, RESERVE_TIMEOUT_MS);
    try {
      const [, , batch] = await Promise.all([
        tx`begin`,
        tx`select pg_advisory_xact_lock(${projection.locks.batch})`,
        createEventStore(tx).settledBatch(storedCheckpoint(tx, projection.name), batchSize),
      ]);
      if (!batch) {
        await tx`commit`;
        return 0;
      }
      const writes = [
        ...applyStatements(projection, tx, LIVE_VIEWS, batch.after, batch.last),
        writeCheckpoint(tx, projection.name, batch.last),
        ...(announce ? [announce(tx, batch)] : []),
      ];
      if (beforeCommit) {
        await Promise.all(writes);
        await beforeCommit(batch);
        await tx`commit`;
      } else {
        await Promise.all([...writes, tx`commit`]);
      }
      onApplied?.(batch.count);
      return batch.count;
    } catch (error) {
      // Bounded: a connection that died under the batch may never answer its rollback (the
      // driver settles nothing more sent to it; seen after a database restart), and the loop must
      // go on. One that lives runs the rollback before anything it is given after its release.
      await Promise.race([tx`rollback`.catch(() => {}), delay(ROLLBACK_WAIT_MS, undefined, { ref: false })]);
      throw error;
    } finally {
      tx.release();
    }
  }

  /** Events committed but not yet applied to this projection, and the age of the oldest of them. */
  lag(): Promise<ProjectionLag> {
    return projectionLag(this.options.sql, this.options.projection);
  }

  async #run(): Promise<void> {
    const { log, batchSize, pollIntervalMs } = this.options;
    // Failures in a row: the first is a warning, the rest of an outage is not worth a line a second.
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (!(await this.#lead())) {
          await this.#sleep(pollIntervalMs);
          continue;
        }
        // A full batch means more may be waiting: go again at once.
        const applied = await this.applyNextBatch();
        if (failures > 0) log.info({ failures, projection: this.options.projection.name }, 'projector works again');
        failures = 0;
        if (applied === batchSize) continue;
        // Events came, so more are likely coming: look again after the least interval, without
        // waiting to be woken. Appends wake only a projector that found nothing (they send a
        // wake-up every few ms at most, see projector-wake-ups.ts), so a busy one costs no NOTIFYs.
        if (applied > 0) {
          await this.#sleep(this.options.minBatchIntervalMs ?? 0, false);
          continue;
        }
        await this.#sleep(pollIntervalMs);
      } catch (error) {
        if (this.#stopped) break;
        log[failures++ === 0 ? 'warn' : 'debug'](
          { err: error, projection: this.options.projection.name },
          'projector batch failed; resigning and retrying',
        );
        await this.#resign();
        await this.#sleep(pollIntervalMs);
      }
    }
  }

  /** True when this instance holds the leader lock (taking it if free); checks a held lock's connection is alive. */
  async #lead(): Promise<boolean> {
    if (this.#leader.held) return this.#leader.take();
    if (!(await this.#leader.take())) return false;
    // Not awaited: the subscription may wait for the driver's reconnect; the poll covers that time.
    // One subscription at a time: a new leadership waits for the previous one's to settle.
    this.#subscribing = this.#subscribing.then(() => this.#listen());
    this.options.log.info({ projection: this.options.projection.name }, 'projector is now the leader');
    return true;
  }

  /**
   * Subscribes anew to the appends' wake-ups each time leadership is taken: the
   * driver re-subscribes by itself after a lost connection only if the database answers at that
   * moment, so after an outage the subscription may be gone. Without it, the poll still finds events.
   */
  async #listen(): Promise<void> {
    const previous = this.#listening;
    this.#listening = undefined;
    await previous?.unlisten().catch(() => {});
    const listening = await this.options.sql
      .listen(EVENTS_APPENDED_CHANNEL, () => {
        this.#notified = true;
        this.#wake();
      })
      .catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'projector cannot LISTEN; polling only');
        return undefined;
      });
    if (this.#stopped) await listening?.unlisten().catch(() => {});
    else this.#listening = listening;
  }

  async #resign(): Promise<void> {
    await this.#leader.release();
  }

  /** Waits for a notification (unless `untilNotified` is false), the interval, or `stop()`. */
  #sleep(ms: number, untilNotified = true): Promise<void> {
    return new Promise((done) => {
      const due = () => this.#stopped || (untilNotified && this.#notified);
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.#wake = () => {};
        if (untilNotified) this.#notified = false;
        done();
      };
      if (ms <= 0 || due()) return finish();
      timer = setTimeout(finish, ms);
      this.#wake = () => {
        if (due()) finish();
      };
    });
  }
}
