import type { Logger } from '../logger.js';
import type { Sql } from './connect.js';

/** The database cannot be reached right now: the caller may retry shortly; nothing was decided. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';

  constructor(readonly retryAfterSeconds = 1) {
    super('The database cannot be reached.');
  }
}

/**
 * One cheap statement that fails unless the database answers within `timeoutMs`: an unreachable
 * host never refuses, so waiting longer than that counts as a failure.
 */
export const probeDatabase = (sql: Sql, timeoutMs: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  return Promise.race([sql`select 1`.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
};

/** postgres.js's own codes for a connection that could not be made or was lost. */
const DRIVER_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT']);
/** Socket errors of a server that is gone or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * PostgreSQL's SQLSTATEs of a server that is shutting down, restarting or starting
 * (57P01-57P03: admin shutdown, crash shutdown, cannot connect now) or of a broken connection (08).
 */
const unavailableState = (code: string) => /^57P0[1-3]$/.test(code) || code.startsWith('08');

/**
 * True when an error says the database could not be reached or went away, rather than that a
 * statement was refused: such a failure is answered 503 and says nothing about the request.
 */
export const isDatabaseUnavailable = (error: unknown): boolean => {
  if (error instanceof DatabaseUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || unavailableState(code);
};

export type DatabaseHealthOptions = {
  /** One cheap statement; it fails when the database cannot be reached. */
  probe: () => Promise<unknown>;
  log: Logger;
  /** How often an unreachable database is probed again. */
  intervalMs?: number;
  /** Called once when the database is found unreachable (drop what was cached from it). */
  onDown?: () => void;
  /** Called once when it answers again. */
  onUp?: () => void;
};

export type DatabaseHealth = {
  /** False from a failed probe until the next successful one. */
  readonly reachable: boolean;
  /** A statement failed as if the database were gone: probe it now (once, however many say so). */
  suspect: () => void;
  /** Stops probing (process stop). */
  stop: () => void;
};

/**
 * Tracks whether the database can be reached. A failure that looks like an outage triggers a
 * probe; only a failed probe marks the database down (one backend killed by an administrator is
 * not an outage). While down it is probed every `intervalMs` until it answers.
 */
export const watchDatabase = ({
  probe,
  log,
  intervalMs = 500,
  onDown,
  onUp,
}: DatabaseHealthOptions): DatabaseHealth => {
  let reachable = true;
  let probing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let downSince = 0;

  const check = async (): Promise<void> => {
    if (probing || stopped) return;
    probing = true;
    const ok = await probe().then(
      () => true,
      () => false,
    );
    probing = false;
    if (stopped) return;
    if (ok && !reachable) {
      reachable = true;
      log.info({ downForMs: Date.now() - downSince }, 'the database answers again; serving');
      onUp?.();
    } else if (!ok && reachable) {
      reachable = false;
      downSince = Date.now();
      log.warn('the database cannot be reached; answering 503 database_unavailable until it is back');
      onDown?.();
    }
    clearTimeout(timer);
    if (!reachable) timer = setTimeout(() => void check(), intervalMs);
  };

  return {
    get reachable() {
      return reachable;
    },
    suspect: () => void check(),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
};
