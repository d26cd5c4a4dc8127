import { ConfigError, loadConfig, type Config } from './config.js';
import { EmbeddedPostgresError } from './database/embedded-postgres.js';
import { createLogger, logFormat, type Logger } from './logger.js';

/** How to release one resource a process acquired; `deadline` (epoch ms) is when the whole stop must be done. */
export type Release = (deadline: number) => Promise<void>;

/** What is left for the pool and the database after the HTTP server's deadline. */
export const CLOSE_RESERVE_MS = 2000;
/** Past the deadline by this much, a stop that still hangs ends the process anyway. */
const FORCED_EXIT_GRACE_MS = 5000;

/**
 * Runs one of the service's processes (server, projector, rebuild): configuration, logger, and
 * a stack of resources released in reverse order on Ctrl-C, SIGTERM, a failed start, or when a
 * one-shot task returns `'done'`. A failure is explained in one line.
 */
export const run = (
  name: string,
  start: (config: Config, log: Logger, releases: Release[]) => Promise<'running' | 'done'>,
): void => {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
  const format = logFormat({
    configured: config.logFormat,
    production: config.production,
    terminal: process.stdout.isTTY === true,
  });
  const log = createLogger(config.logLevel, format);
  const releases: Release[] = [];
  const release = async (deadline: number) => {
    for (const step of releases.splice(0).reverse()) {
      const started = Date.now();
      await step(deadline).catch((error: unknown) => log.warn({ err: error }, 'a resource did not stop cleanly'));
      log.debug({ tookMs: Date.now() - started }, 'a resource was released');
    }
  };
  const deadlineFromNow = () => Date.now() + config.stopTimeoutMs;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const deadline = deadlineFromNow();
    log.info({ signal, deadlineMs: config.stopTimeoutMs }, `${name} stopping`);
    setTimeout(() => {
      log.error(`${name} did not stop within ${config.stopTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, config.stopTimeoutMs + FORCED_EXIT_GRACE_MS).unref();
    await release(deadline);
    log.info({ tookMs: config.stopTimeoutMs - (deadline - Date.now()) }, `${name} stopped`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Started by another of the service's processes (the API its projector, the cluster its API
  // processes): it never outlives that one, also when that one was killed (its IPC channel closes).
  if (process.send) {
    process.once('disconnect', () => void stop('parent exited'));
    if (!process.connected) void stop('parent exited');
  }

  start(config, log, releases).then(
    async (state) => {
      if (state === 'done') {
        await release(deadlineFromNow());
        process.exit(0);
      }
    },
    async (error: unknown) => {
      console.error(`${name} failed: ${explain(error)}`);
      await release(deadlineFromNow());
      process.exit(1);
    },
  );
};

const explain = (error: unknown): string => {
  if (error instanceof EmbeddedPostgresError) return error.message;
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return 'the port is already in use (set PORT to another)';
  if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED')
    return `cannot reach the database (${(error as Error).message})`;
  return error instanceof Error ? error.message : String(error);
};
