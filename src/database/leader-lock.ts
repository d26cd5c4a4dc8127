import type postgres from 'postgres';
import type { Sql } from './connect.js';

/** How long taking a connection of one's own (`reserveWithin`) may wait before the attempt is given up. */
export const RESERVE_TIMEOUT_MS = 5000;

/**
 * Leadership among processes: a PostgreSQL session advisory lock held on a connection of its
 * own, so that one process at a time runs a loop (a projector, the hold expirer). The lock goes
 * with its connection: a process that dies, or loses the connection, leaves it to the next.
 */
export class LeaderLock {
  #connection: postgres.ReservedSql | undefined;
  /** When the held lock's connection last answered (performance.now()). */
  #aliveAt = Number.NEGATIVE_INFINITY;

  /**
   * `checkEveryMs`: how long a held lock's connection is trusted alive since it last answered
   * (0: asked at every `take`). A loop that takes the lock before every step of a few ms (the
   * projectors) would otherwise spend a round trip a step on it; what a lock lost unnoticed for
   * that long costs is that two processes run the loop at once for that long, which the loops
   * allow (their steps take a transaction lock of their own, or are idempotent).
   */
  constructor(
    private readonly sql: Sql,
    private readonly key: number,
    private readonly checkEveryMs = 0,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get held(): boolean {
    return this.#connection !== undefined;
  }

  /**
   * True when this process holds the lock, taking it if free; a held lock's connection is
   * checked alive unless it answered within `checkEveryMs` (a failure throws: give the lock up
   * with `release` and try again later).
   */
  async take(): Promise<boolean> {
    if (this.#connection) {
      if (this.now() - this.#aliveAt < this.checkEveryMs) return true;
      await this.#connection`select 1`;
      this.#aliveAt = this.now();
      return true;
    }
    const connection = await reserveWithin(this.sql, RESERVE_TIMEOUT_MS);
    let locked = false;
    try {
      const [row] = await connection<{ locked: boolean }[]>`select pg_try_advisory_lock(${this.key}) as locked`;
      locked = row?.locked === true;
    } finally {
      if (!locked) connection.release();
    }
    if (locked) {
      this.#connection = connection;
      this.#aliveAt = this.now();
    }
    return locked;
  }

  /** Gives the lock up (if held) and its connection back to the pool. */
  async release(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    await connection`select pg_advisory_unlock(${this.key})`.catch(() => {});
    connection.release();
  }
}

/**
 * A reserved connection, or an error after `ms`: the driver can lose a reserve when connection
 * attempts fail around it (a database restart), and a loop (a leader's, a projector's batch)
 * must not wait on it for ever.
 * A connection granted after the deadline is given back at once.
 */
export const reserveWithin = (sql: Sql, ms: number): Promise<postgres.ReservedSql> =>
  new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new Error(`no connection for the leader lock within ${ms} ms`));
    }, ms);
    sql.reserve().then(
      (connection) => {
        clearTimeout(timer);
        if (late) connection.release();
        else resolve(connection);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
