import { pino, type DestinationStream, type Logger } from 'pino';

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

/**
 * Where an attendee's personal fields could be in what is logged (a request's attendee, a
 * command's, an error's context), at any of the first three levels: logs are kept and shipped
 * elsewhere, beyond the reach of forgetting, so they never hold them. The service logs no bodies;
 * this is the net under a line that one day would.
 */
export const REDACTED_PATHS = ['', '*.', '*.*.'].flatMap((at) =>
  ['attendee.name', 'attendee.email', 'personalData'].map((path) => `${at}${path}`),
);

const redact = { paths: REDACTED_PATHS, censor: '[redacted]' };

/** A logger on stdout (or `destination`, for tests) at the configured level, in `format`. */
export const createLogger = (level: string, format: LogFormat = 'json', destination?: DestinationStream): Logger => {
  const options = { level, base: { service: 'seat-surge' }, redact };
  if (format === 'pretty') return pino({ ...options, transport: PRETTY });
  return destination ? pino(options, destination) : pino(options);
};
