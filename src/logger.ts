import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, at the configured level. */
export const createLogger = (level: string): Logger => pino({ level, base: { service: 'seat-surge' } });
