import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines (one object per line, for machines) or pino-pretty's lines for a person to read. */
export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT when set; otherwise pretty only for a person at a terminal in development. In
 * production, and wherever the output goes to a file or a pipe (a log collector, the tests),
 * JSON: it is what tools parse, and it costs no worker thread.
 */
export const logFormat = ({
  configured,
  production,
  terminal,
}: {
  configured: LogFormat | undefined;
  production: boolean;
  /** Whether stdout is a terminal. */
  terminal: boolean;
}): LogFormat => configured ?? (terminal && !production ? 'pretty' : 'json');

/** pino-pretty runs in a worker thread (a pino transport), off the event loop that serves requests. */
const PRETTY = {
  target: 'pino-pretty',
  options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' },
};

/** A logger on stdout at the configured level, in `format`. */
export const createLogger = (level: string, format: LogFormat = 'json'): Logger =>
  pino({ level, base: { service: 'seat-surge' }, ...(format === 'pretty' ? { transport: PRETTY } : {}) });
