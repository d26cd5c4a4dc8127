import type { Logger } from '../logger.js';
import type { ExpiredHold } from './crud-conferences.js';

export type HoldSweeperOptions = {
  /** The design whose holds are swept, as the log names it. */
  design: string;
  /** Expires the holds due at a time: the design's `expireDueHolds`. */
  expireDueHolds: (now: Date) => Promise<ExpiredHold[]>;
  /** What time each sweep runs at. */
  clock: () => Date;
  /** The pause between the end of one sweep and the start of the next (HOLD_EXPIRY_POLL_INTERVAL_MS). */
  intervalMs: number;
  log: Logger;
};

/**
 * A CRUD design's periodic sweep of due holds. Sweeps never overlap (the next is scheduled when
 * one ends); a failed sweep is logged and the next one tries again, which is safe because a sweep
 * changes only holds still pending and due. Any number of processes may sweep at once: the
 * design's locks make each hold expire once, so no leader is needed.
 */
export class HoldSweeper {
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(private readonly options: HoldSweeperOptions) {}

  /** Sweeps every `intervalMs` from now on, until `stop`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  /** No sweep starts after this; one in progress ends by itself (its transaction commits or rolls back). */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    // Unreferenced: the sweep alone never keeps a process alive.
    this.#timer = setTimeout(() => void this.#sweep(), this.options.intervalMs).unref();
  }

  async #sweep(): Promise<void> {
    const { design, expireDueHolds, clock, log } = this.options;
    try {
      const expired = await expireDueHolds(clock());
      if (expired.length > 0) log.debug({ design, expired: expired.length }, 'holds expired');
    } catch (error) {
      if (this.#running) log.warn({ err: error, design }, 'the hold sweep failed; the next one tries again');
    } finally {
      if (this.#running) this.#schedule();
    }
  }
}
